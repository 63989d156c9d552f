"""X's authorization: OAuth 2.0 with PKCE (the admin's connect flow, token refresh and
revocation) and OAuth 1.0a request signing (for sites that already hold user tokens).

Like the rest of ``networks``, nothing here touches the database: callers store what these
functions return. Every request goes through ``HttpClient``; secrets travel only in headers
and bodies, never in a message.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from django.utils.translation import gettext as _

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError, NetworkError, PermanentNetworkError
from wagtail_syndicate.networks.auth import error_payload, pkce_pair
from wagtail_syndicate.networks.http import HttpClient

__all__ = [
    "API_URL",
    "AUTHORIZE_URL",
    "SCOPES",
    "TokenSet",
    "XOAuth",
    "oauth1_header",
    "oauth1_signature",
    "pkce_pair",
]

API_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
# Read and write posts and media, know whose account it is, and keep access (refresh token).
SCOPES = "tweet.read tweet.write users.read media.write offline.access"
# X's access tokens live two hours; assumed when the answer does not say.
DEFAULT_LIFETIME = 7200


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered: an access token, the refresh token that replaces the
    previous one, and when the access token expires (epoch seconds)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float

    def session(self, **extra) -> dict:
        """The account's session as stored (encrypted) on the account."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            **extra,
        }


def api_url() -> str:
    return (get_setting("X_API_URL") or API_URL).rstrip("/")


def client_id() -> str:
    value = get_setting("X_CLIENT_ID")
    if not value:
        raise ConfigurationError(
            _(
                "Connecting X accounts needs the OAuth 2.0 client ID of your X app: set "
                'WAGTAIL_SYNDICATE["X_CLIENT_ID"] (and "X_CLIENT_SECRET" for a confidential '
                "client)."
            )
        )
    return value


def error_detail(err: NetworkError) -> str:
    """X's own words for an error: ``detail`` (API v2 problems), the first of ``errors``,
    an OAuth ``error_description``, else the exception's message."""
    payload = error_payload(err)
    if payload:
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0].get("message") or errors[0].get("detail")
            if first:
                return str(first)
        for key in ("detail", "error_description", "title", "error"):
            if payload.get(key):
                return str(payload[key])
    return str(err)


class XOAuth:
    """OAuth 2.0 requests to X's token endpoints, as this site's app (``X_CLIENT_ID``, and
    ``X_CLIENT_SECRET`` for a confidential client, sent with HTTP Basic)."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = (base_url or api_url()).rstrip("/")
        self.http = HttpClient(self.base_url, None, label="X")

    def _client_auth(self) -> tuple[dict, dict]:
        """The form fields and headers that identify this site's app."""
        ident = client_id()
        secret = get_setting("X_CLIENT_SECRET")
        headers = {}
        if secret:
            pair = f"{quote(ident, safe='')}:{quote(secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return {"client_id": ident}, headers

    def authorize_url(self, redirect_uri: str, state: str, code_challenge: str) -> str:
        """Where to send the administrator's browser to sign in to X and consent."""
        params = {
            "response_type": "code",
            "client_id": client_id(),
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        base = get_setting("X_AUTHORIZE_URL") or AUTHORIZE_URL
        return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"

    def _token(self, data: dict, failure: str) -> TokenSet:
        fields, headers = self._client_auth()
        try:
            _status, answer = self.http.json(
                "POST", "/2/oauth2/token", data={**data, **fields}, headers=headers
            )
        except PermanentNetworkError as err:
            raise PermanentNetworkError(
                failure % {"reason": error_detail(err)}, status=err.status, body=err.body
            ) from err
        access, refresh = answer.get("access_token"), answer.get("refresh_token")
        if not (isinstance(access, str) and access):
            raise PermanentNetworkError(_("X answered without an access token."))
        try:
            lifetime = float(answer.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        return TokenSet(access, refresh if isinstance(refresh, str) else "", time.time() + lifetime)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """``POST /2/oauth2/token`` with the authorization code and the PKCE verifier."""
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            _("X did not give an access token: %(reason)s"),
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token and a new refresh token (the old one stops working)."""
        return self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            _("X refused to renew the access token (%(reason)s): reconnect the account."),
        )

    def revoke(self, token: str, hint: str = "access_token") -> None:
        """``POST /2/oauth2/revoke``; raises ``NetworkError`` if X refuses."""
        fields, headers = self._client_auth()
        data = {"token": token, "token_type_hint": hint, **fields}
        try:
            self.http.request("POST", "/2/oauth2/revoke", data=data, headers=headers)
        except PermanentNetworkError as err:
            raise PermanentNetworkError(
                _("X did not revoke the token: %(reason)s") % {"reason": error_detail(err)},
                status=err.status,
                body=err.body,
            ) from err


# ---------------------------------------------------------------- OAuth 1.0a (RFC 5849)


def _enc(value: str) -> str:
    """RFC 5849 3.6: UTF-8, then every byte but the unreserved characters percent-encoded."""
    return quote(str(value), safe="-._~")


def _base_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: scheme and host in lower case, the port only if not the default,
    the path, no query."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}{parts.path or '/'}"


def oauth1_signature(
    method: str,
    url: str,
    params: list[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """The HMAC-SHA1 signature of a request: ``params`` are the query parameters, the
    form-encoded body's (never a multipart or JSON body's) and the ``oauth_*`` protocol
    parameters but ``oauth_signature``."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _enc(_base_uri(url)), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return binascii.b2a_base64(digest, newline=False).decode("ascii")


def oauth1_header(
    method: str,
    url: str,
    params: list[tuple[str, str]],
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The ``Authorization: OAuth ...`` header of a signed request (see ``oauth1_signature``
    for ``params``)."""
    protocol = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    protocol["oauth_signature"] = oauth1_signature(
        method, url, [*params, *protocol.items()], consumer_secret, token_secret
    )
    return "OAuth " + ", ".join(f'{_enc(k)}="{_enc(v)}"' for k, v in protocol.items())
