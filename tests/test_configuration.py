"""Settings, system checks and token encryption."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.networks.http import normalize_instance_url
from wagtail_syndicate.tokens import decrypt_token, encrypt_token


def check_ids():
    return {message.id for message in run_checks() if message.id.startswith("wagtail_syndicate")}


def test_unknown_setting_name_names_the_key():
    with pytest.raises(ImproperlyConfigured, match=r'WAGTAIL_SYNDICATE\["TIMEOUT"\]'):
        get_setting("TIMEOUT")


def test_misspelt_setting_is_a_warning(settings):
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCE": True}
    assert "wagtail_syndicate.W001" in check_ids()


def test_immediate_backend_in_production_is_a_warning(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.DEBUG = False
    assert "wagtail_syndicate.W002" in check_ids()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert "wagtail_syndicate.W002" not in check_ids()


def test_task_backend_setting_must_name_a_backend(settings):
    settings.WAGTAIL_SYNDICATE = {"TASK_BACKEND": "nope"}
    assert "wagtail_syndicate.E001" in check_ids()


@pytest.mark.parametrize(
    "url",
    [
        "http://mastodon.example",
        "https://localhost",
        "https://127.0.0.1:8000",
        "https://10.0.0.2",
        "ftp://mastodon.example",
        "mastodon.example",
    ],
)
def test_only_public_https_instances_by_default(settings, url):
    settings.WAGTAIL_SYNDICATE = {}
    with pytest.raises(ConfigurationError):
        normalize_instance_url(url)


def test_instance_url_is_normalised(settings):
    settings.WAGTAIL_SYNDICATE = {}
    assert normalize_instance_url(" https://Mastodon.example/ ") == "https://Mastodon.example"
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": True}
    assert normalize_instance_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"


def test_tokens_are_encrypted_and_keys_can_rotate(settings):
    ciphertext = encrypt_token("secret-token")
    assert "secret-token" not in ciphertext
    assert decrypt_token(ciphertext) == "secret-token"
    settings.WAGTAIL_SYNDICATE = {"TOKEN_KEYS": ["new-key", settings.SECRET_KEY]}
    assert decrypt_token(ciphertext) == "secret-token"
    settings.WAGTAIL_SYNDICATE = {"TOKEN_KEYS": ["new-key"]}
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        decrypt_token(ciphertext)
