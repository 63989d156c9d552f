"""What the OAuth 2.0 sign-ins of every network share: PKCE and reading an error's body."""

import base64
import hashlib
import json
import secrets

from wagtail_syndicate.exceptions import NetworkError


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def error_payload(err: NetworkError) -> dict:
    """The JSON object a server answered an error with, or an empty dict."""
    try:
        payload = json.loads(err.body or "null")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
