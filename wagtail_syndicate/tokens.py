"""Encrypt access tokens at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from ``WAGTAIL_SYNDICATE["TOKEN_KEYS"]`` or, by default, is derived from
``SECRET_KEY``; changing SECRET_KEY without listing the old key makes stored tokens unreadable.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from .conf import get_setting
from .exceptions import ConfigurationError


def _fernet_key(secret: str) -> bytes:
    # A fixed, purpose-specific derivation so the key differs from any other use of SECRET_KEY.
    digest = hashlib.sha256(b"wagtail-syndicate token key:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _cipher() -> MultiFernet:
    secrets = get_setting("TOKEN_KEYS") or [settings.SECRET_KEY]
    if isinstance(secrets, str) or not all(isinstance(s, str) and s for s in secrets):
        raise ConfigurationError(
            'WAGTAIL_SYNDICATE["TOKEN_KEYS"] must be a list of non-empty strings.'
        )
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def encrypt_token(token: str) -> str:
    return _cipher().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken as err:
        raise ConfigurationError(
            "A stored access token cannot be decrypted: SECRET_KEY or "
            'WAGTAIL_SYNDICATE["TOKEN_KEYS"] changed. Add the old key to TOKEN_KEYS, '
            "or connect the account again."
        ) from err


def encrypted_property(field_name: str, doc: str = "") -> property:
    """A plain-text attribute stored only encrypted in the model field ``field_name``."""

    def get(instance) -> str:
        return decrypt_token(getattr(instance, field_name))

    def set_(instance, value: str) -> None:
        setattr(instance, field_name, encrypt_token(value))

    return property(get, set_, doc=doc)
