"""Connect, list and remove social accounts without the admin (for scripted set-ups)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.views.decorators.debug import sensitive_variables

from wagtail_syndicate.admin.oauth_flows import disconnect
from wagtail_syndicate.exceptions import ConfigurationError, NetworkError
from wagtail_syndicate.models import SyndicationAccount
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.http import normalize_instance_url
from wagtail_syndicate.networks.registry import check_account, network_choices


class Command(BaseCommand):
    help = "Manage the social accounts pages are shared to."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Connect an account; the token is read from stdin.")
        networks = [key for key, _label in network_choices()]
        add.add_argument("--network", default="mastodon", choices=networks)
        add.add_argument(
            "--instance",
            help="The server, e.g. https://mastodon.social; Bluesky and X have a default.",
        )
        add.add_argument("--handle", default="", help="Bluesky: the handle to sign in with.")
        add.add_argument(
            "--token-stdin",
            action="store_true",
            required=True,
            help="Read the access token (Bluesky: the app password) from standard input "
            "(keeps it out of shell history).",
        )
        add.add_argument("--site", type=int, help="ID of the Wagtail Site to share pages of.")
        actions.add_parser("list", help="List connected accounts.")
        remove = actions.add_parser(
            "remove",
            help="Remove an account; its records and their post links stay, for the same "
            "account connected again to take back.",
        )
        remove.add_argument("id", type=int)

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    @sensitive_variables()
    def handle_add(self, network, instance=None, handle="", site=None, **options):
        token = sys.stdin.readline().strip()
        if not token:
            raise CommandError("No access token on standard input.")
        try:
            instance = instance or get_network(network).default_instance_url
            if not instance:
                raise CommandError(f"Say which server with --instance ({network} has no default).")
            instance_url = normalize_instance_url(instance)
            info, session = check_account(network, instance_url, token, handle=handle)
        except (ConfigurationError, NetworkError) as err:
            raise CommandError(str(err)) from None
        account, created = SyndicationAccount.objects.get_or_create(
            network=network,
            instance_url=instance_url,
            handle=info.handle,
            defaults={"site_id": site},
        )
        account.access_token = token
        account.session = session
        account.oauth_app = None  # a pasted token was not issued to this site's app
        account.site_id = site
        account.save()
        verb = "Connected" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {account} (id {account.pk})."))
        if account.adopted_records:
            self.stdout.write(f"Took back {account.adopted_records} posts it shared before.")

    def handle_list(self, **options):
        accounts = SyndicationAccount.objects.select_related("site")
        if not accounts:
            self.stdout.write("No accounts connected.")
        for account in accounts:
            state = "enabled" if account.enabled else "disabled"
            site = account.site.hostname if account.site else "all sites"
            self.stdout.write(
                f"{account.pk}\t{account.network}\t{account.handle}\t{account.instance_url}\t"
                f"{site}\t{state}"
            )

    def handle_remove(self, id, **options):
        account = SyndicationAccount.objects.filter(pk=id).first()
        if account is None:
            raise CommandError(f"No account with id {id}.")
        kept = account.records.count()
        account.delete()
        self.stdout.write(self.style.SUCCESS(f"Removed account {id}."))
        if kept:
            self.stdout.write(
                f"Kept the records of its {kept} posts; adding the same account again takes "
                "them back."
            )
        # As in the admin: revoke what this site can, and say what it cannot.
        level, text = disconnect(account)
        style = {"success": self.style.SUCCESS, "warning": self.style.WARNING}.get(level, str)
        self.stdout.write(style(str(text)))
