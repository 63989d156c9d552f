"""Encrypt every stored secret again with the current key, after SECRET_KEY (or
``WAGTAIL_SYNDICATE["TOKEN_KEYS"]``) was rotated, so the old key can then be removed."""

from django.core.management.base import BaseCommand, CommandError
from django.views.decorators.debug import sensitive_variables

from wagtail_syndicate.models import MastodonApp, SyndicationAccount
from wagtail_syndicate.tokens import TokenUnreadable, reencrypt_token

# The encrypted fields of each model that holds secrets.
ENCRYPTED_FIELDS = [
    (SyndicationAccount, ["encrypted_token", "encrypted_session"]),
    (MastodonApp, ["encrypted_client_secret"]),
]


class Command(BaseCommand):
    help = (
        "Encrypt every stored access token, session and client secret again with the current "
        "key (SECRET_KEY, or the first of TOKEN_KEYS). Run it after rotating the key, with the "
        "old one still in SECRET_KEY_FALLBACKS (or TOKEN_KEYS); then the old one may go."
    )

    def handle(self, *args, **options):
        unreadable = []
        for model, fields in ENCRYPTED_FIELDS:
            done = 0
            for obj in model.objects.order_by("pk"):
                if self.reencrypt(obj, fields):
                    done += 1
                else:
                    unreadable.append(f"{model._meta.verbose_name} {obj} (id {obj.pk})")
            self.stdout.write(f"Encrypted again: {done} {model._meta.verbose_name_plural}.")
        if unreadable:
            raise CommandError(
                "No key decrypts the secrets of: "
                + "; ".join(unreadable)
                + ". Put the old key back in SECRET_KEY_FALLBACKS and run this again, or "
                "connect these accounts again."
            )

    @sensitive_variables()
    def reencrypt(self, obj, fields) -> bool:
        """Encrypt ``obj``'s secrets again; False if one cannot be decrypted (left as it is).

        Each field is written only if it still holds what was read (a worker may have renewed
        a session meanwhile, already with the current key): a compare-and-set, field by field.
        """
        changes = {}
        try:
            for field in fields:
                value = getattr(obj, field)
                if value:
                    changes[field] = (value, reencrypt_token(value))
        except TokenUnreadable:
            return False
        rows = type(obj).objects.filter(pk=obj.pk)
        for field, (old, new) in changes.items():
            rows.filter(**{field: old}).update(**{field: new})
        return True
