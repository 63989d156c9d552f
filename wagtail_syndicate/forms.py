"""The admin form that connects a social account by server URL and pasted secret (a
Mastodon or X access token, a Bluesky app password)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .exceptions import ConfigurationError, NetworkError
from .networks import get_network
from .networks.base import Credentials
from .networks.http import normalize_instance_url


class SyndicationAccountForm(WagtailAdminModelForm):
    # Never bound to the model and never rendered back: the token is write-only in the admin.
    access_token = forms.CharField(
        label=_("Access token or app password"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "On Mastodon: Preferences → Development → New application, with the scopes "
            "write:media, write:statuses and read:accounts; paste “Your access token”. "
            "On Bluesky: Settings → Privacy and security → App passwords; enter your handle "
            "too. Leave empty to keep the current one."
        ),
    )

    def clean_instance_url(self):
        try:
            return normalize_instance_url(self.cleaned_data["instance_url"])
        except ConfigurationError as err:
            raise ValidationError(str(err)) from None

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
        network = get_network(cleaned.get("network") or self.instance.network)
        sessions: list[dict] = []
        credentials = Credentials(
            instance_url,
            token,
            handle=(cleaned.get("handle") or "").strip().lstrip("@"),
            save_session=sessions.append,
        )
        try:
            self.account_info = network.verify(credentials)
            # A network that signs in to check (Bluesky) keeps the session it got.
            self.session = sessions[-1] if sessions else {}
        except NetworkError as err:
            self.add_error("access_token", _("The token could not be checked: %s") % err)
        return cleaned

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
