"""What makes a publish cheap keeps its meaning: the publish writes one intent and one task
whatever the number of accounts (the database queue's written in the publish's transaction),
and the worker's fan-out finds the accounts the page chose and plans per account."""

import importlib.util

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.testapp.models import PhotoPage
from tests.utils import connect_account, make_image, make_photo_page
from wagtail_syndicate.exceptions import ContentError
from wagtail_syndicate.models import SyndicationAccount, SyndicationIntent, SyndicationRecord
from wagtail_syndicate.pipeline import queueing
from wagtail_syndicate.pipeline.outbox import fan_out_task as fan_out

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_BACKEND = (
    "django_tasks.backends.database.DatabaseBackend"
    if importlib.util.find_spec("django_tasks.backends.database")
    else "django_tasks_db.DatabaseBackend"
)


# django-tasks 0.7 would otherwise write the row at the commit itself (its own default); later
# versions have no such option.
LEGACY_OPTIONS = (
    {"ENQUEUE_ON_COMMIT": False} if DATABASE_BACKEND.startswith("django_tasks.backends") else {}
)


def task_rows():
    models = importlib.import_module(DATABASE_BACKEND.rsplit(".", 1)[0] + ".models")
    return models.DBTaskResult.objects.filter(task_path__endswith="syndicate_record")


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"},
        "database": {"BACKEND": DATABASE_BACKEND, **LEGACY_OPTIONS},
    }
    settings.WAGTAIL_SYNDICATE = {**settings.WAGTAIL_SYNDICATE, "TASK_BACKEND": "database"}


def task_rows_of(name):
    models = importlib.import_module(DATABASE_BACKEND.rsplit(".", 1)[0] + ".models")
    return models.DBTaskResult.objects.filter(task_path__endswith=name)


def run_fan_out_rows():
    """Run the fan-outs the database queue holds, as its worker would."""
    for row in task_rows_of("fan_out_task").order_by("enqueued_at"):
        assert fan_out.call(*row.args_kwargs["args"]) == "fanned out"


def not_for(account, monkeypatch):
    """PhotoPage plans per account: its template refuses ``account``."""
    original = PhotoPage.get_syndication_template

    def template(self, for_account):
        if for_account.pk == account.pk:
            raise ContentError("Not for Bob.")
        return original(self, for_account)

    monkeypatch.setattr(PhotoPage, "get_syndication_template", template)


def accounts_of(page):
    return sorted(a.handle for a in SyndicationAccount.for_page(page))


def test_the_accounts_of_a_saved_page(fake_mastodon):
    alice = connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image(), syndicate=False)
    both = sorted([alice.handle, bob.handle])

    assert accounts_of(PhotoPage.objects.get(pk=page.pk)) == both  # none chosen: every one
    page.syndication_accounts.set([bob])
    page.save()
    assert accounts_of(PhotoPage.objects.get(pk=page.pk)) == [bob.handle]
    SyndicationAccount.objects.filter(pk=bob.pk).update(enabled=False)
    assert accounts_of(PhotoPage.objects.get(pk=page.pk)) == []  # chosen, but disabled


def test_a_choice_held_in_memory_or_made_by_the_model_is_what_counts(fake_mastodon, monkeypatch):
    alice = connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    page = PhotoPage.objects.get(pk=make_photo_page(image=make_image(), syndicate=False).pk)
    page.syndication_accounts.set([alice])  # in the form, not saved
    assert [a.handle for a in SyndicationAccount.for_page(page)] == [alice.handle]

    monkeypatch.setattr(PhotoPage, "get_syndication_account_ids", lambda self: [bob.pk])
    page = PhotoPage.objects.get(pk=page.pk)
    assert [a.handle for a in SyndicationAccount.for_page(page)] == [bob.handle]


def test_a_model_that_plans_per_account_is_checked_per_account(fake_mastodon, monkeypatch):
    alice = connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    not_for(bob, monkeypatch)
    page = make_photo_page(image=make_image())
    states = {r.account_id: (r.state, r.last_error) for r in SyndicationRecord.objects.all()}
    assert states == {alice.pk: ("queued", ""), bob.pk: ("failed", "Not for Bob.")}
    assert PhotoPage.objects.get(pk=page.pk).live


def test_the_database_queue_commits_with_the_records(fake_mastodon, database_queue):
    connect_account(fake_mastodon)
    connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image())
    (intent,) = SyndicationIntent.objects.filter(page=page)
    assert [row.args_kwargs["args"] for row in task_rows_of("fan_out_task")] == [[intent.pk]]
    run_fan_out_rows()
    records = SyndicationRecord.objects.filter(page=page)
    assert [r.state for r in records] == ["queued", "queued"]
    assert sorted(row.args_kwargs["args"][0] for row in task_rows()) == sorted(
        r.pk for r in records
    )

    # A publish whose transaction is rolled back leaves neither an intent nor its task.
    other = make_photo_page(image=make_image(), publish=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        other.save_revision().publish()
        assert task_rows_of("fan_out_task").count() == 2  # written in the transaction, not after
        raise RuntimeError("the request failed after the publish")
    assert not SyndicationIntent.objects.filter(page=other).exists()
    assert task_rows_of("fan_out_task").count() == 1


def test_a_failed_enqueue_in_the_transaction_fails_the_record(
    fake_mastodon, database_queue, monkeypatch
):
    connect_account(fake_mastodon)

    def refuse(record_id, generation):
        raise OSError("queue full")

    monkeypatch.setattr(queueing, "enqueue", refuse)
    monkeypatch.setattr("wagtail_syndicate.pipeline.tasks.enqueue", refuse)
    page = make_photo_page(image=make_image())
    run_fan_out_rows()
    record = SyndicationRecord.objects.get(page=page)
    assert record.state == "failed"
    assert "could not be queued (OSError: queue full)" in record.last_error
    assert PhotoPage.objects.get(pk=page.pk).live
    assert not task_rows().exists()


def test_a_first_publish_that_meets_a_record_queues_it(fake_mastodon):
    account = connect_account(fake_mastodon)
    page = make_photo_page(image=make_image(), publish=False)
    # A record made before the page was ever published (not something the plugin does).
    SyndicationRecord.objects.create(page=page, account=account, state="failed", generation=1)
    page.save_revision().publish()
    (record,) = SyndicationRecord.objects.filter(page=page)
    assert (record.state, record.generation) == ("queued", 2)


def test_a_publish_reads_the_choice_from_its_revision(fake_mastodon):
    connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    page = make_photo_page(image=make_image(), publish=False)
    page.syndication_accounts.set([bob])
    revision = page.save_revision()
    revision.publish()
    assert [r.account_id for r in SyndicationRecord.objects.filter(page=page)] == [bob.pk]
    # The intent keeps the choice as the revision holds it (no query of the chosen accounts).
    (intent,) = SyndicationIntent.objects.filter(page=page)
    assert (intent.revision_id, intent.account_ids) == (revision.pk, [bob.pk])


def statements_of_the_publish(page) -> list[str]:
    """The SQL statements of ``revision.publish()`` of ``page`` (a draft)."""
    revision = page.save_revision()
    with CaptureQueriesContext(connection) as queries:
        revision.publish()
    return [q["sql"] for q in queries.captured_queries]


def writes(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.lstrip()[:6] in ("INSERT", "UPDATE")]


def test_a_publish_writes_as_many_rows_with_fifty_accounts_as_with_one(
    fake_mastodon, database_queue
):
    connect_account(fake_mastodon)
    with_one = statements_of_the_publish(make_photo_page(image=make_image(), publish=False))
    for number in range(49):
        connect_account(fake_mastodon, token=f"token-{number}")
    with_fifty = statements_of_the_publish(make_photo_page(image=make_image(), publish=False))
    off = statements_of_the_publish(
        make_photo_page(image=make_image(), publish=False, syndicate=False)
    )

    assert len(writes(with_fifty)) == len(writes(with_one))
    # The plugin's own: the intent and the task that fans it out, and nothing else.
    assert len(with_fifty) - len(off) == len(with_one) - len(off) == 2
    assert sum("syndicationintent" in sql for sql in writes(with_fifty)) == 1
    assert not SyndicationRecord.objects.exists()  # the worker makes them
    assert not task_rows().exists()


def test_the_form_check_plans_once_for_accounts_that_would_post_alike(fake_mastodon, monkeypatch):
    from wagtail_syndicate.admin.page_form import SharingCheck

    accounts = [connect_account(fake_mastodon, token=f"token-{n}") for n in range(3)]
    page = PhotoPage.objects.get(pk=make_photo_page(image=make_image(), syndicate=False).pk)
    asked = []
    monkeypatch.setattr(PhotoPage, "get_syndication_tags", lambda self: asked.append(1) or [])

    check = SharingCheck(page)
    assert [a.pk for a in check.accounts] == [a.pk for a in accounts]
    assert len(asked) == 1  # one plan for three accounts with the same limits and visibility
    assert {check.outcome(account) for account in accounts} == {"sharing"}

    SyndicationAccount.objects.filter(pk=accounts[2].pk).update(visibility="unlisted")
    asked.clear()
    check = SharingCheck(PhotoPage.objects.get(pk=page.pk))
    assert len(asked) == 2  # a visibility of its own: a plan of its own
    assert check.plans[accounts[2].pk].visibility == "unlisted"
    assert check.plans[accounts[0].pk].visibility != "unlisted"


def test_the_form_check_plans_per_account_for_a_model_that_does(fake_mastodon, monkeypatch):
    from wagtail_syndicate.admin.page_form import SharingCheck

    alice = connect_account(fake_mastodon)
    bob = connect_account(fake_mastodon, token="other-token")
    not_for(bob, monkeypatch)
    page = PhotoPage.objects.get(pk=make_photo_page(image=make_image(), syndicate=False).pk)
    check = SharingCheck(page)
    assert check.errors == {bob.pk: "Not for Bob."}
    assert (check.outcome(alice), check.outcome(bob)) == ("sharing", "failed")
