"""Mastodon's OAuth: register this site as an app, send the administrator to the server's
consent page (with PKCE where the server supports it), exchange the code for a token, revoke it.

Like the rest of ``networks``, nothing here touches the database: the views store what these
functions return. Every request goes through ``HttpClient``.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError, NetworkError, PermanentNetworkError
from wagtail_syndicate.networks.auth import error_payload
from wagtail_syndicate.networks.http import HttpClient, normalize_instance_url
from wagtail_syndicate.networks.http.addresses import _is_local_host

WRITE_SCOPES = ["write:media", "write:statuses"]
APP_NAME = "wagtail-syndicate"
APP_WEBSITE = "https://pypi.org/project/wagtail-syndicate/"


class NotMastodonError(PermanentNetworkError):
    """The server answered, but not as a Mastodon server would."""


@dataclass(frozen=True)
class ServerOAuth:
    """What a server says about its OAuth (``/.well-known/oauth-authorization-server``, 4.3+)."""

    pkce: bool
    scopes_supported: tuple[str, ...] = ()

    @property
    def scopes(self) -> str:
        """The fewest scopes that let this plugin post, find a post whose answer was lost
        (``read:statuses``: the account's own posts, whatever their visibility) and learn
        whose account it is: ``profile`` where the server knows it (4.3+), else
        ``read:accounts``."""
        who = "profile" if "profile" in self.scopes_supported else "read:accounts"
        return " ".join([*WRITE_SCOPES, "read:statuses", who])


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str = field(repr=False)


def instance_from_input(text: str) -> str:
    """The server's URL from what an administrator typed: a URL, a host name, or a handle
    (``@user@mastodon.social`` or ``user@mastodon.social``). Raises ``ConfigurationError``.

    Without a scheme, https is meant, except for local hosts (development servers) when
    ``ALLOW_INSECURE_INSTANCES`` is on."""
    text = text.strip()
    if "://" not in text:
        host = text.removeprefix("@")
        if "@" in host:
            host = host.rsplit("@", 1)[1]
        elif text.startswith("@"):  # a user name without its server
            host = ""
        host = host.strip("/")
        if not host or any(c in host for c in "/?#@ "):
            raise ConfigurationError(
                _(
                    "“%(text)s” is neither a web address like https://mastodon.social nor a "
                    "handle like @you@mastodon.social."
                )
                % {"text": text}
            )
        hostname = urlsplit(f"//{host}").hostname or ""
        local = get_setting("ALLOW_INSECURE_INSTANCES") and _is_local_host(hostname)
        text = f"{'http' if local else 'https'}://{host}"
    return normalize_instance_url(text)


def _description(err: NetworkError) -> str:
    """An OAuth error's ``error_description`` if the server sent one, else the message."""
    payload = error_payload(err)
    if payload.get("error_description"):
        return f"{payload.get('error')}: {payload['error_description']}"
    return str(err)


class MastodonOAuth:
    """OAuth requests to one Mastodon server, made without an access token."""

    def __init__(self, instance_url: str) -> None:
        self.instance_url = instance_url
        self.http = HttpClient(instance_url, None, label="Mastodon")

    def server_oauth(self) -> ServerOAuth:
        """Read the metadata document; a server without one (before 4.3) has no PKCE and
        no ``profile`` scope. Raises ``TransientNetworkError`` if the server is unreachable."""
        try:
            _status, document = self.http.json("GET", "/.well-known/oauth-authorization-server")
        except PermanentNetworkError:
            return ServerOAuth(pkce=False)
        methods = document.get("code_challenge_methods_supported") or []
        scopes = document.get("scopes_supported") or []
        return ServerOAuth(
            pkce=isinstance(methods, list) and "S256" in methods,
            scopes_supported=tuple(s for s in scopes if isinstance(s, str))
            if isinstance(scopes, list)
            else (),
        )

    def register_app(self, redirect_uri: str, scopes: str) -> AppCredentials:
        """``POST /api/v1/apps``. Raises ``NotMastodonError`` when the server does not answer
        like Mastodon."""
        data = {
            "client_name": APP_NAME,
            "redirect_uris": redirect_uri,
            "scopes": scopes,
            "website": APP_WEBSITE,
        }
        try:
            _status, app = self.http.json("POST", "/api/v1/apps", data=data)
        except PermanentNetworkError as err:
            raise NotMastodonError(
                _(
                    "%(server)s does not look like a Mastodon server: registering an app "
                    "failed (%(error)s)"
                )
                % {"server": self.instance_url, "error": err},
                status=err.status,
                body=err.body,
            ) from err
        client_id, client_secret = app.get("client_id"), app.get("client_secret")
        if not (isinstance(client_id, str) and isinstance(client_secret, str)):
            raise NotMastodonError(
                _(
                    "%(server)s does not look like a Mastodon server: registering an app gave "
                    "no client credentials."
                )
                % {"server": self.instance_url}
            )
        return AppCredentials(client_id, client_secret)

    def app_is_known(self, app: AppCredentials, scopes: str) -> bool:
        """Whether the server still knows the app (it may have been deleted there, or the
        server reset): asks for a token of the app itself and revokes it at once. Only a
        refused client (401) says no; the server's other answers are left to the sign-in."""
        data = {
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scope": scopes,
        }
        try:
            _status, answer = self.http.json("POST", "/oauth/token", data=data)
        except PermanentNetworkError as err:
            return err.status != 401
        token = answer.get("access_token")
        if isinstance(token, str) and token:
            try:
                self.revoke(app, token)
            except NetworkError:
                pass  # a token of the app alone: it can neither read nor post for anyone
        return True

    def authorize_url(
        self,
        client_id: str,
        redirect_uri: str,
        scopes: str,
        state: str,
        code_challenge: str | None = None,
    ) -> str:
        """Where to send the administrator's browser to sign in and consent."""
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scopes,
            "state": state,
        }
        if code_challenge:
            params.update(code_challenge=code_challenge, code_challenge_method="S256")
        return f"{self.instance_url}/oauth/authorize?{urlencode(params)}"

    def exchange_code(
        self, app: AppCredentials, code: str, redirect_uri: str, code_verifier: str | None
    ) -> str:
        """``POST /oauth/token``: the access token for ``code``."""
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        }
        if code_verifier:
            data["code_verifier"] = code_verifier
        with self._refused(_("%(server)s did not give an access token: %(reason)s")):
            _status, token = self.http.json("POST", "/oauth/token", data=data)
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise PermanentNetworkError(
                _("%(server)s answered without an access token.") % {"server": self.instance_url}
            )
        return access_token

    @contextmanager
    def _refused(self, message: str):
        """A server's refusal in the block, said with ``message`` (naming the ``server`` and
        the ``reason``: its OAuth error description), its status and body kept."""
        try:
            yield
        except PermanentNetworkError as err:
            raise PermanentNetworkError(
                message % {"server": self.instance_url, "reason": _description(err)},
                status=err.status,
                body=err.body,
            ) from err

    def revoke(self, app: AppCredentials, token: str) -> None:
        """``POST /oauth/revoke``; raises ``NetworkError`` if the server refuses."""
        data = {"client_id": app.client_id, "client_secret": app.client_secret, "token": token}
        with self._refused(_("%(server)s did not revoke the token: %(reason)s")):
            self.http.request("POST", "/oauth/revoke", data=data)
