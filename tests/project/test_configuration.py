"""Settings, system checks and token encryption."""

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from wagtail_syndicate.conf import get_setting
from wagtail_syndicate.exceptions import ConfigurationError
from wagtail_syndicate.networks.http import normalize_instance_url
from wagtail_syndicate.tokens import decrypt_token, encrypt_token

# Django's model checks ask SQLite what it supports (JSONField), which opens the database.
pytestmark = pytest.mark.django_db


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


def test_insecure_instances_outside_debug_is_a_warning(settings):
    settings.DEBUG = False
    settings.WAGTAIL_SYNDICATE = {"ALLOW_INSECURE_INSTANCES": True}
    assert "wagtail_syndicate.W003" in check_ids()
    settings.WAGTAIL_SYNDICATE = {}
    assert "wagtail_syndicate.W003" not in check_ids()


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "169.254.169.254", "::1", "fd00::1"])
def test_a_host_resolving_to_a_private_address_is_refused(settings, monkeypatch, address):
    import socket

    from wagtail_syndicate.networks.http import HttpClient

    settings.WAGTAIL_SYNDICATE = {}
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(family, socket.SOCK_STREAM, 6, "", (address, 0))]
    )
    client = HttpClient("https://mastodon.example", "token", label="Mastodon")
    with pytest.raises(ConfigurationError, match=f"resolves to {address}, which is not a public"):
        client.request("GET", "/api/v2/instance")


@pytest.mark.parametrize(
    "django_has_tasks, installed, expected",
    [(True, "0.13.0", ["wagtail_syndicate.E002"]), (True, "0.12.0", []), (False, "0.13.0", [])],
)
def test_a_database_queue_that_refuses_the_plugins_tasks_is_an_error(
    settings, monkeypatch, django_has_tasks, installed, expected
):
    import importlib.metadata
    import importlib.util

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            (django_has_tasks or None) if name == "django.tasks" else real_find_spec(name, *a)
        ),
    )
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: installed if name == "django-tasks-db" else "1.0",
    )
    from wagtail_syndicate.checks import check_task_packages

    # The check alone: Django's would load the backend, which this environment may not have.
    errors = check_task_packages(None)
    assert [e.id for e in errors] == expected
    if errors:
        assert f"django-tasks-db {installed}" in errors[0].msg
        assert errors[0].hint == 'pip install "django-tasks-db<0.13"'


@pytest.mark.parametrize(
    "intervals", [[], (), "2, 4", 5, [2, 0], [2, -1], [2, "4"], [True], [float("inf")], None]
)
def test_live_status_intervals_must_be_positive_numbers(settings, intervals):
    settings.WAGTAIL_SYNDICATE = {"LIVE_STATUS_INTERVALS": intervals}
    assert "wagtail_syndicate.E003" in check_ids()


@pytest.mark.parametrize("intervals", [[0.2], (2, 4, 8, 16, 32, 60), [1, 2.5]])
def test_live_status_intervals_of_positive_numbers_pass(settings, intervals):
    settings.WAGTAIL_SYNDICATE = {"LIVE_STATUS_INTERVALS": intervals}
    assert "wagtail_syndicate.E003" not in check_ids()


@pytest.fixture
def page_form_of_its_own():
    """PhotoPage with a form of its own that forgot SyndicatedPageForm, for the test only."""
    from wagtail.admin.forms import WagtailAdminPageForm

    from tests.testapp.models import PhotoPage, TemperamentalPhotoPage

    class PhotoPageForm(WagtailAdminPageForm):
        pass

    def forget_forms():
        for model in (PhotoPage, TemperamentalPhotoPage):  # its subclass inherits the form
            model.get_edit_handler.cache_clear()

    forget_forms()
    own_form, PhotoPage.base_form_class = PhotoPage.base_form_class, PhotoPageForm
    try:
        yield PhotoPage
    finally:
        PhotoPage.base_form_class = own_form
        forget_forms()


def test_a_page_form_without_the_plugins_form_is_a_warning(page_form_of_its_own):
    from wagtail_syndicate.checks import check_page_forms

    warning, of_subclass = check_page_forms(None)  # PhotoPage, and the subclass inheriting it
    assert warning.id == "wagtail_syndicate.W007" and warning.obj is page_form_of_its_own
    assert of_subclass.obj.__name__ == "TemperamentalPhotoPage"
    assert "testapp.PhotoPage's edit form" in warning.msg
    assert "PhotoPageForm) does not subclass SyndicatedPageForm" in warning.msg
    assert "SyndicatedPageForm" in warning.hint


def test_a_page_that_names_no_form_is_a_warning_naming_wagtails_form():
    from tests.testapp.models import NotePage
    from wagtail_syndicate.checks import check_page_forms

    NotePage.get_edit_handler.cache_clear()
    own_form = NotePage.base_form_class
    del NotePage.base_form_class  # inherits Page's, as a model that names none does
    try:
        (warning,) = check_page_forms(None)
    finally:
        NotePage.base_form_class = own_form
        NotePage.get_edit_handler.cache_clear()
    assert warning.obj is NotePage
    assert "(wagtail.admin.forms.pages.WagtailAdminPageForm) does not subclass" in warning.msg
    assert "wagtail_syndicate.admin.SyndicatedPageForm" in warning.hint


def test_the_shared_page_models_of_the_tests_and_the_demo_have_the_plugins_form():
    from wagtail_syndicate.checks import check_page_forms

    assert check_page_forms(None) == []


@pytest.mark.parametrize(
    "networks, expected",
    [
        ({}, []),
        ({"x": None}, []),  # a built-in network left out
        ({"mine": {"BACKEND": "tests.testapp.networks.UneditableMastodon"}}, []),
        ({"mine": {"BACKEND": "tests.nowhere.Network"}}, ['"mine" cannot be used']),
        (
            {"mine": {"BACKEND": "wagtail_syndicate.networks.limits.Limits"}},
            ["is not a Network subclass"],
        ),
        (
            {"mine": "wagtail_syndicate.networks.mastodon.MastodonNetwork"},
            ['with a "BACKEND"'],
        ),
        ("mastodon", ["must be a dict"]),
    ],
)
def test_every_network_must_be_a_network_class_that_imports(settings, networks, expected):
    from wagtail_syndicate.checks import check_networks

    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "NETWORKS": networks}
    errors = check_networks(None)
    assert [e.id for e in errors] == ["wagtail_syndicate.E007"] * len(expected)
    for error, words in zip(errors, expected, strict=True):
        assert words in error.msg


def test_the_networks_offered_follow_the_setting(settings):
    from wagtail_syndicate.networks.registry import network_choices

    assert [key for key, _label in network_choices()] == ["mastodon", "bluesky", "x"]
    settings.WAGTAIL_SYNDICATE = {
        **settings.WAGTAIL_SYNDICATE,
        "NETWORKS": {"x": None, "mine": {"BACKEND": "tests.testapp.networks.UneditableMastodon"}},
    }
    assert network_choices() == [
        ("mastodon", "Mastodon"),
        ("bluesky", "Bluesky"),
        ("mine", "Stone tablets"),
    ]
