"""OAuth as FakeMastodon serves it (Mastodon 4.3, i.e. Doorkeeper): app registration, the
authorization server metadata, the consent page, the token and revocation endpoints, and the
scopes each API endpoint asks of the tokens issued here.

``oauth_metadata = False`` makes the fake act as a server older than 4.3: no
``/.well-known/oauth-authorization-server``, no ``profile`` scope, and PKCE parameters ignored.
Tokens given to the constructor may do anything; tokens issued here only what their scopes allow.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlencode, urlsplit

from . import _pages
from ._http import ApiError, Headers, Params, Response, json_response
from ._models import FakeApp, FakeGrant

# Mastodon 4.3's scopes (without the admin ones).
SCOPES = [
    "read",
    "write",
    "follow",
    "push",
    "profile",
    *(
        f"read:{name}"
        for name in (
            "accounts blocks bookmarks favourites filters follows lists mutes notifications "
            "search statuses"
        ).split()
    ),
    *(
        f"write:{name}"
        for name in (
            "accounts blocks bookmarks conversations favourites filters follows lists media "
            "mutes notifications reports statuses"
        ).split()
    ),
]
OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = 600  # seconds, as Doorkeeper's default
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")

# The scopes an API endpoint accepts from a token issued here (any one of them will do).
ENDPOINT_SCOPES = {
    "_verify_credentials": ("profile", "read", "read:accounts"),
    "_account_lookup": ("read", "read:accounts"),
    "_account_statuses": ("read", "read:statuses"),
    "_upload_media_v2": ("write", "write:media"),
    "_upload_media_v1": ("write", "write:media"),
    "_get_media": ("write", "write:media"),
    "_update_media": ("write", "write:media"),
    "_create_status": ("write", "write:statuses"),
    "_get_status": ("read", "read:statuses"),
    "_edit_status": ("write", "write:statuses"),
    "_delete_status": ("write", "write:statuses"),
}

INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
DENIED = "The resource owner or authorization server denied the request."


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _same(secret: str, given: str) -> bool:
    return secrets.compare_digest(secret.encode(), given.encode())


def _valid_redirect_uri(uri: str) -> bool:
    if uri == OOB:
        return True
    parts = urlsplit(uri)
    return bool(parts.scheme) and not parts.fragment and (bool(parts.netloc) or ":" in uri)


def _with_query(uri: str, params: dict) -> str:
    params = {k: v for k, v in params.items() if v is not None}
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


class OAuthError(Exception):
    """A problem with an authorization request: shown on a page (``redirect`` False) when the
    client or redirect URI cannot be trusted, else sent back to the redirect URI."""

    def __init__(self, error: str, description: str, *, redirect: bool = True):
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect = redirect


class OAuthAPI:
    """Mixin of :class:`FakeMastodon` (uses its lock, clock, tokens and account ids)."""

    # ---------------------------------------------------------------- state

    def _init_oauth(self, oauth_metadata: bool, scopes_supported, signed_in_user) -> None:
        self.oauth_metadata = oauth_metadata
        self.scopes_supported = list(scopes_supported) if scopes_supported else None
        self.signed_in_user = signed_in_user
        self._apps: dict[str, FakeApp] = {}
        self._grants: dict[str, FakeGrant] = {}
        self._token_scopes: dict[str, list[str]] = {}
        self._token_apps: dict[str, str] = {}

    @property
    def apps(self) -> list[FakeApp]:
        """The registered applications, oldest first."""
        with self._lock:
            return list(self._apps.values())

    def token_scopes(self, token: str) -> list[str] | None:
        """The scopes of a token issued through OAuth; None for any other token."""
        with self._lock:
            scopes = self._token_scopes.get(token)
            return list(scopes) if scopes is not None else None

    def _known_scopes(self) -> list[str]:
        if self.scopes_supported is not None:
            return self.scopes_supported
        return SCOPES if self.oauth_metadata else [s for s in SCOPES if s != "profile"]

    def _consenting_user(self) -> str:
        with self._lock:
            return self.signed_in_user or next(iter(self.tokens.values()), "demo")

    def _check_scope(self, token: str, handler: str) -> None:
        """403 when a token issued here lacks every scope the endpoint accepts."""
        with self._lock:
            granted = self._token_scopes.get(token)
        accepted = ENDPOINT_SCOPES.get(handler)
        if granted is None or accepted is None:
            return
        if not set(granted) & set(accepted):
            raise ApiError(403, "This action is outside the authorized scopes")

    # ---------------------------------------------------------------- endpoints

    def _oauth_metadata(self, **_):
        if not self.oauth_metadata:
            return Response(404, _pages.not_found_page(), "text/html; charset=utf-8")
        base = self.base_url
        return json_response(
            200,
            {
                "issuer": f"{base}/",
                "service_documentation": "https://docs.joinmastodon.org/",
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "app_registration_endpoint": f"{base}/api/v1/apps",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "scopes_supported": self._known_scopes(),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            },
        )

    def _register_app(self, params: Params, **_):
        name = (params.scalar("client_name") or "").strip()
        if not name:
            raise ApiError(422, "Validation failed: Application name can't be blank")
        uris = params.array("redirect_uris")
        if uris is None:
            uris = (params.scalar("redirect_uris") or "").split()
        if not uris:
            raise ApiError(422, "Validation failed: Redirect URI can't be blank")
        if not all(_valid_redirect_uri(uri) for uri in uris):
            raise ApiError(422, "Validation failed: Redirect URI must be an absolute URI.")
        scopes = (params.scalar("scopes") or "read").split()
        if not set(scopes) <= set(self._known_scopes()):
            raise ApiError(422, "Validation failed: Scopes doesn't match configured on the server.")
        with self._lock:
            app = FakeApp(
                id=str(len(self._apps) + 1),
                name=name,
                website=params.scalar("website") or None,
                redirect_uris=uris,
                scopes=scopes,
                client_id=secrets.token_urlsafe(32),
                client_secret=secrets.token_urlsafe(32),
            )
            self._apps[app.client_id] = app
        return json_response(
            200,
            {
                "id": app.id,
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes,
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": app.redirect_uris,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
                "vapid_key": "",
            },
        )

    def _authorization_request(self, params: Params) -> tuple[FakeApp, dict]:
        """Validate an authorization request as Doorkeeper does; return the app and the
        request's parameters. Raises OAuthError."""
        with self._lock:
            app = self._apps.get(params.scalar("client_id") or "")
        if app is None:
            raise OAuthError("invalid_client", INVALID_CLIENT, redirect=False)
        redirect_uri = params.scalar("redirect_uri") or ""
        if redirect_uri not in app.redirect_uris:
            raise OAuthError(
                "invalid_redirect_uri", "The redirect uri included is not valid.", redirect=False
            )
        request = {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": params.scalar("response_type") or "",
            "scope": " ".join((params.scalar("scope") or "read").split()),
            "state": params.scalar("state"),
        }
        if request["response_type"] != "code":
            raise OAuthError(
                "unsupported_response_type",
                "The authorization server does not support this response type.",
            )
        if not set(request["scope"].split()) <= set(app.scopes):
            raise OAuthError(
                "invalid_scope", "The requested scope is invalid, unknown, or malformed."
            )
        challenge = params.scalar("code_challenge")
        if self.oauth_metadata and challenge is not None:  # servers before 4.3 ignore PKCE
            if (params.scalar("code_challenge_method") or "plain") != "S256":
                raise OAuthError("invalid_request", "The code challenge method must be S256.")
            if not PKCE_CHALLENGE.fullmatch(challenge):
                raise OAuthError("invalid_request", "The code challenge is malformed.")
            request["code_challenge"] = challenge
            request["code_challenge_method"] = "S256"
        return app, request

    def _oauth_error(self, error: OAuthError, redirect_uri: str, state: str | None) -> Response:
        if not error.redirect or redirect_uri == OOB:
            body = _pages.oauth_error_page(error.error, error.description)
            return Response(400, body, "text/html; charset=utf-8")
        location = _with_query(
            redirect_uri,
            {"error": error.error, "error_description": error.description, "state": state},
        )
        return Response(302, b"", "text/html; charset=utf-8", {"Location": location})

    def _authorize_page(self, params: Params, **_):
        try:
            app, request = self._authorization_request(params)
        except OAuthError as err:
            redirect_uri, state = params.scalar("redirect_uri") or "", params.scalar("state")
            return self._oauth_error(err, redirect_uri, state)
        body = _pages.consent_page(
            app_name=app.name,
            website=app.website,
            scopes=request["scope"].split(),
            username=self._consenting_user(),
            fields={k: v for k, v in request.items() if v is not None},
        )
        return Response(200, body, "text/html; charset=utf-8")

    def _authorize_decision(self, params: Params, **_):
        state = params.scalar("state")
        try:
            app, request = self._authorization_request(params)
        except OAuthError as err:
            return self._oauth_error(err, params.scalar("redirect_uri") or "", state)
        if params.scalar("decision") != "authorize":
            denied = OAuthError("access_denied", DENIED)
            return self._oauth_error(denied, request["redirect_uri"], state)
        username = params.scalar("username") or self._consenting_user()
        with self._lock:
            if username not in self._account_ids:
                self._account_ids[username] = str(len(self._account_ids) + 1)
            grant = FakeGrant(
                code=secrets.token_urlsafe(32),
                client_id=app.client_id,
                redirect_uri=request["redirect_uri"],
                scopes=request["scope"].split(),
                username=username,
                code_challenge=request.get("code_challenge"),
                expires_at=self.clock() + CODE_LIFETIME,
            )
            self._grants[grant.code] = grant
        if grant.redirect_uri == OOB:
            return Response(200, _pages.oob_code_page(grant.code), "text/html; charset=utf-8")
        location = _with_query(grant.redirect_uri, {"code": grant.code, "state": state})
        return Response(302, b"", "text/html; charset=utf-8", {"Location": location})

    def _client(self, params: Params, headers: Headers) -> FakeApp | None:
        """The app authenticated by ``client_id``/``client_secret`` (form or HTTP Basic)."""
        client_id, client_secret = params.scalar("client_id"), params.scalar("client_secret")
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip()).decode()
            except ValueError:
                decoded = ""
            client_id, _, client_secret = decoded.partition(":")
        with self._lock:
            app = self._apps.get(client_id or "")
        if app is None or not _same(app.client_secret, client_secret or ""):
            return None
        return app

    @staticmethod
    def _oauth_json_error(status: int, error: str, description: str) -> Response:
        return json_response(status, {"error": error, "error_description": description})

    def _token(self, params: Params, headers: Headers, **_):
        app = self._client(params, headers)
        if app is None:
            return self._oauth_json_error(401, "invalid_client", INVALID_CLIENT)
        grant_type = params.scalar("grant_type")
        if grant_type == "client_credentials":
            return self._app_token(app, params)
        if grant_type != "authorization_code":
            return self._oauth_json_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        with self._lock:
            grant = self._grants.pop(params.scalar("code") or "", None)  # single use
            now = self.clock()
            valid = (
                grant is not None
                and grant.client_id == app.client_id
                and grant.redirect_uri == (params.scalar("redirect_uri") or "")
                and grant.expires_at > now
            )
            if valid and grant.code_challenge is not None:
                verifier = params.scalar("code_verifier") or ""
                valid = _same(s256(verifier), grant.code_challenge)
            if not valid:
                return self._oauth_json_error(400, "invalid_grant", INVALID_GRANT)
            return self._issue(app, grant.scopes, grant.username)

    def _app_token(self, app: FakeApp, params: Params) -> Response:
        """The client credentials grant: a token of the app itself, acting for no user."""
        scopes = (params.scalar("scope") or "read").split()
        if not set(scopes) <= set(app.scopes):
            return self._oauth_json_error(
                400, "invalid_scope", "The requested scope is invalid, unknown, or malformed."
            )
        with self._lock:
            return self._issue(app, scopes, None)

    def _issue(self, app: FakeApp, scopes: list[str], username: str | None) -> Response:
        token = secrets.token_urlsafe(32)
        if username is not None:
            self.tokens[token] = username
        self._token_scopes[token] = list(scopes)
        self._token_apps[token] = app.client_id
        return json_response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": " ".join(scopes),
                "created_at": int(self.clock()),
            },
        )

    def _revoke(self, params: Params, headers: Headers, **_):
        app = self._client(params, headers)
        if app is None:
            return self._oauth_json_error(401, "invalid_client", INVALID_CLIENT)
        token = params.scalar("token") or ""
        with self._lock:
            if token not in self.tokens and token not in self._token_apps:
                return json_response(200, {})  # RFC 7009: an unknown token is not an error
            if self._token_apps.get(token) != app.client_id:
                return self._oauth_json_error(
                    403, "unauthorized_client", "You are not authorized to revoke this token"
                )
            self.tokens.pop(token, None)
            self._token_scopes.pop(token, None)
            self._token_apps.pop(token, None)
        return json_response(200, {})
