"""The admin form that connects a social account by server URL and pasted secret (a
Mastodon or X access token, a Bluesky app password), and the visibilities forms offer."""

from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from wagtail.admin.forms import WagtailAdminModelForm

from wagtail_syndicate.exceptions import ConfigurationError, NetworkError
from wagtail_syndicate.networks import get_network
from wagtail_syndicate.networks.http import normalize_instance_url
from wagtail_syndicate.networks.registry import check_account, configured_networks, network_choices


def network_visibilities(name: str) -> tuple:
    """The (value, label) visibilities of the network ``name``; none for a network that is
    not configured (the system check says what is wrong with it)."""
    try:
        return tuple(get_network(name).visibilities)
    except (ConfigurationError, ImportError):
        return ()


def visibility_choices(names: Iterable[str]) -> list[tuple[str, str]]:
    """The visibilities of the networks ``names``, each value once, in their order."""
    choices: dict = {}
    for name in names:
        for value, label in network_visibilities(name):
            choices.setdefault(value, label)
    return list(choices.items())


def visibilities_by_network(names: Iterable[str]) -> list:
    """The visibilities of the networks ``names`` as choices grouped under each network's
    label (those of one network alone, when only one has any): for a form whose network is
    not chosen yet, so that nothing offered looks like every network's."""
    groups = []
    for name in names:
        choices = list(network_visibilities(name))
        if choices:
            groups.append((get_network(name).label, choices))
    return groups[0][1] if len(groups) == 1 else groups


def offer_visibilities(form, name: str, choices: list, blank_label=None) -> None:
    """Make the form's field ``name`` a choice of ``choices`` (with "" labelled
    ``blank_label`` first, when given), refusing any other value with a clear error; with no
    choices, drop the field, so the value stored stays as it is. The models' fields have no
    choices: a network's visibilities are its own, and adding a network needs no migration."""
    if name not in form.fields:
        return
    if not choices:
        del form.fields[name]
        return
    field = form.fields[name]
    form.fields[name] = forms.ChoiceField(
        label=field.label,
        help_text=field.help_text,
        required=False,
        initial=field.initial,
        choices=[("", blank_label)] + choices if blank_label is not None else choices,
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a visibility posts can have here: choose one of the list."
            )
        },
    )


class SyndicationAccountForm(WagtailAdminModelForm):
    # The configured networks (``NETWORKS``): the model's field has no choices of its own.
    network = forms.ChoiceField(label=_("Network"), choices=network_choices)
    # Never bound to the model and never rendered back: the token is write-only in the admin.
    access_token = forms.CharField(
        label=_("Access token or app password"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "On Mastodon: Preferences → Development → New application, with the scopes "
            "write:media, write:statuses, read:statuses and read:accounts; paste “Your "
            "access token”. "
            "On Bluesky: Settings → Privacy and security → App passwords; enter your handle "
            "too."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The visibilities of the account's network (once known: a new account's form, not
        # yet sent, offers each network's under its name; a network without any has no field).
        if self.is_bound or self.instance.pk:
            choices = visibility_choices([self.data.get("network") or self.instance.network])
        else:
            choices = visibilities_by_network(configured_networks())
        offer_visibilities(self, "visibility", choices)
        if "instance_url" in self.fields:
            # Bluesky and X have a usual server: left empty, it is filled in.
            self.fields["instance_url"].required = False
        if self.instance.pk:
            self.describe_existing_account()
        elif "instance_url" in self.fields:
            self.fields["instance_url"].help_text = _(
                "The Mastodon instance (for example https://mastodon.social). On Bluesky and "
                "X, leave it empty for their usual server (https://bsky.social, "
                "https://api.x.com), or enter your own PDS."
            )

    def describe_existing_account(self) -> None:
        """Help for changing an account that is connected, not for connecting a new one."""
        help_texts = {
            "access_token": _(
                "Leave empty to keep the current one. Paste a new access token (or, on "
                "Bluesky, a new app password) to replace it."
            ),
            "instance_url": _("Changing the server needs the account's access token again."),
            "handle": _(
                "On Bluesky, the handle to sign in with. Otherwise the network's own, filled "
                "in again whenever a new token is pasted."
            ),
        }
        for name, text in help_texts.items():
            if name in self.fields:
                self.fields[name].help_text = text

    def clean_instance_url(self):
        url = self.cleaned_data.get("instance_url")
        if not url:
            network = self.data.get("network") or self.instance.network
            try:
                url = get_network(network).default_instance_url
            except ConfigurationError:
                url = ""
        if not url:
            raise ValidationError(_("Enter the address of the server."))
        try:
            return normalize_instance_url(url)
        except ConfigurationError as err:
            raise ValidationError(str(err)) from None

    def clean_visibility(self):
        """The visibility chosen (the field refuses one the network does not have), else the
        account's own if its network has it, else the network's first."""
        value = self.cleaned_data.get("visibility")
        if "network" in self.fields and "network" not in self.cleaned_data:
            return value  # the network is refused: there is nothing to check it against
        network = self.cleaned_data.get("network") or self.instance.network
        values = [choice for choice, _label in network_visibilities(network)]
        if not values:
            return self.instance.visibility
        if value not in values:
            value = self.instance.visibility if self.instance.visibility in values else values[0]
        return value

    @sensitive_variables()
    def clean(self):
        cleaned = super().clean()
        token = cleaned.get("access_token")
        instance_url = cleaned.get("instance_url")
        if not instance_url:
            return cleaned
        if not token:
            if self.instance.pk and instance_url == self.instance.instance_url:
                return cleaned
            self.add_error("access_token", _("Paste the account's access token."))
            return cleaned
        try:
            self.account_info, self.session = check_account(
                cleaned.get("network") or self.instance.network,
                instance_url,
                token,
                handle=cleaned.get("handle") or "",
            )
        except NetworkError as err:
            self.add_error("access_token", _("The token could not be checked: %s") % err)
        except ConfigurationError as err:
            # A server this site refuses to talk to (a private address, say): the editor's
            # mistake to fix, never an error page that would carry the pasted token.
            self.add_error("instance_url", _("This server cannot be used: %s") % err)
        return cleaned

    @sensitive_variables()
    def save(self, commit=True):
        account = super().save(commit=False)
        if self.cleaned_data.get("access_token"):
            account.access_token = self.cleaned_data["access_token"]
            account.handle = self.account_info.handle
            account.session = self.session
            account.oauth_app = None  # a pasted token was not issued to this site's app
        if commit:
            account.save()
            self.save_m2m()
        return account
