"""Encrypt access tokens at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The keys come from ``WAGTAIL_SYNDICATE["TOKEN_KEYS"]`` or, by default, are derived from
``SECRET_KEY`` and then each of ``SECRET_KEY_FALLBACKS``: the first key encrypts, every key
decrypts, so rotating SECRET_KEY as Django documents (the old one moved to
SECRET_KEY_FALLBACKS) keeps tokens readable. ``manage.py syndication_reencrypt_tokens`` then
encrypts them again with the current key, after which the old one may be dropped.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError


class TokenUnreadable(ConfigurationError):
    """A stored secret cannot be decrypted with any of the current keys."""

    def __init__(self, message=None):
        super().__init__(
            message
            or _(
                "Token cannot be decrypted: connect the account again (or put the old "
                'SECRET_KEY back in SECRET_KEY_FALLBACKS or WAGTAIL_SYNDICATE["TOKEN_KEYS"]).'
            )
        )


@sensitive_variables()
def _fernet_key(secret: str) -> bytes:
    # A fixed, purpose-specific derivation so the key differs from any other use of SECRET_KEY.
    digest = hashlib.sha256(b"wagtail-syndicate token key:" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@sensitive_variables()
def _secrets() -> list:
    configured = get_setting("TOKEN_KEYS")
    if configured:
        return configured
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", None) or []
    return [settings.SECRET_KEY, *fallbacks]


@sensitive_variables()
def _cipher() -> MultiFernet:
    secrets = _secrets()
    if isinstance(secrets, str) or not all(isinstance(s, str) and s for s in secrets):
        raise ConfigurationError(
            'WAGTAIL_SYNDICATE["TOKEN_KEYS"] must be a list of non-empty strings.'
        )
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


@sensitive_variables()
def encrypt_token(token: str) -> str:
    return _cipher().encrypt(token.encode()).decode()


@sensitive_variables()
def decrypt_token(ciphertext: str) -> str:
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken as err:
        raise TokenUnreadable() from err


@sensitive_variables()
def reencrypt_token(ciphertext: str) -> str:
    """``ciphertext`` encrypted again with the current (first) key; raises ``TokenUnreadable``
    if no key reads it."""
    try:
        return _cipher().rotate(ciphertext.encode()).decode()
    except InvalidToken as err:
        raise TokenUnreadable() from err


def is_readable(ciphertext: str) -> bool:
    """Whether a key decrypts ``ciphertext`` (empty counts as readable: nothing is stored)."""
    if not ciphertext:
        return True
    try:
        decrypt_token(ciphertext)
    except TokenUnreadable:
        return False
    return True


def encrypted_property(field_name: str, doc: str = "") -> property:
    """A plain-text attribute stored only encrypted in the model field ``field_name``."""

    @sensitive_variables()
    def get(instance) -> str:
        return decrypt_token(getattr(instance, field_name))

    @sensitive_variables()
    def set_(instance, value: str) -> None:
        setattr(instance, field_name, encrypt_token(value))

    return property(get, set_, doc=doc)
