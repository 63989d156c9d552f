"""``manage.py syndication_accounts``: headless set-up of accounts."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.utils import accounts_command
from wagtail_syndicate.models import SyndicationAccount

pytestmark = pytest.mark.django_db


run = accounts_command


def test_add_list_remove(fake_mastodon):
    out = run(
        "add",
        "--network",
        "mastodon",
        "--instance",
        fake_mastodon.base_url,
        "--token-stdin",
        stdin="good-token\n",
    )
    account = SyndicationAccount.objects.get()
    assert out.strip() == f"Connected @alice@{fake_mastodon.host} on Mastodon (id {account.pk})."
    assert account.access_token == "good-token"

    listing = run("list")
    assert f"@alice@{fake_mastodon.host}" in listing and "good-token" not in listing

    removed = run("remove", str(account.pk)).splitlines()
    assert removed[0] == f"Removed account {account.pk}."
    assert removed[1].startswith(f"The access token of {account} was pasted")
    assert not SyndicationAccount.objects.exists()


def test_add_with_a_refused_token_says_why(fake_mastodon):
    with pytest.raises(CommandError, match="The access token is invalid"):
        run("add", "--instance", fake_mastodon.base_url, "--token-stdin", stdin="nope\n")
    assert not SyndicationAccount.objects.exists()


def test_add_without_a_token_on_stdin_fails(fake_mastodon):
    with pytest.raises(CommandError, match="No access token"):
        run("add", "--instance", fake_mastodon.base_url, "--token-stdin", stdin="")


def test_remove_unknown_id_fails():
    with pytest.raises(CommandError, match="No account with id 999"):
        run("remove", "999")


def test_adding_without_a_server_names_the_missing_option(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("good-token\n"))
    with pytest.raises(CommandError, match="Say which server with --instance"):
        call_command("syndication_accounts", "add", "--network", "mastodon", "--token-stdin")
