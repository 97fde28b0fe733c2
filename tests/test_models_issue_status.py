"""An issue's status changes only through Issue.objects.move(): a compare-and-set that enforces Issue.TRANSITIONS."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from newsletter.models import Issue, Newsletter

S = Issue.Status


@pytest.fixture
def weekly(db):
    return Newsletter.objects.create(name="Weekly", slug="weekly")


def make(weekly, status, slug="one"):
    return Issue.objects.create(newsletter=weekly, title="One", slug=slug, status=status)


def row(issue):
    return Issue.objects.values("status", "sent_at", "send_started_at").get(pk=issue.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "to"),
    [(S.DRAFT, S.SENT), (S.SENT, S.DRAFT), (S.IMPORTED, S.SENDING), (S.SCHEDULED, S.PAUSED), (S.PAUSED, S.DRAFT)],
)
def test_an_illegal_status_change_is_refused_and_changes_nothing(weekly, start, to):
    issue = make(weekly, start)
    before = row(issue)

    with pytest.raises(ValidationError, match="cannot go from"):
        Issue.objects.move(issue.pk, start, to, sent_at=timezone.now())

    assert row(issue) == before


@pytest.mark.django_db
def test_one_illegal_status_among_the_expected_ones_refuses_the_whole_move(weekly):
    issue = make(weekly, S.DRAFT)

    with pytest.raises(ValidationError):
        Issue.objects.move(issue.pk, [S.DRAFT, S.SENT], S.SENDING)

    assert row(issue)["status"] == S.DRAFT


@pytest.mark.django_db
def test_a_legal_move_from_a_status_the_issue_is_not_in_changes_nothing_and_returns_false(weekly):
    issue = make(weekly, S.DRAFT)

    assert Issue.objects.move(issue.pk, S.SENDING, S.PAUSED) is False
    assert row(issue)["status"] == S.DRAFT


@pytest.mark.django_db
def test_a_legal_move_writes_its_fields_in_the_same_update(weekly):
    issue = make(weekly, S.DRAFT)
    started = timezone.now()

    assert Issue.objects.move(issue.pk, [S.DRAFT, S.SCHEDULED], S.SENDING, send_started_at=started) is True

    assert row(issue) == {"status": S.SENDING, "sent_at": None, "send_started_at": started}


@pytest.mark.django_db
def test_of_two_callers_that_saw_the_same_draft_only_the_first_moves_it(weekly):
    issue = make(weekly, S.DRAFT)

    first = Issue.objects.move(issue.pk, S.DRAFT, S.SENDING, send_started_at=timezone.now())
    second = Issue.objects.move(issue.pk, S.DRAFT, S.SCHEDULED, scheduled_for=timezone.now())

    assert (first, second) == (True, False)
    assert Issue.objects.get(pk=issue.pk).scheduled_for is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_callers_racing_to_move_one_issue_move_it_exactly_once(weekly):
    issue = make(weekly, S.DRAFT)
    barrier = threading.Barrier(2)
    results = []

    def caller():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                results.append(Issue.objects.move(issue.pk, [S.DRAFT, S.SCHEDULED], S.SENDING))
                time.sleep(0.3)  # hold the row while the other caller's UPDATE arrives
        finally:
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False, True]
    assert row(issue)["status"] == S.SENDING


@pytest.mark.django_db
def test_saving_an_issue_never_sets_its_status(weekly):
    issue = make(weekly, S.DRAFT)
    issue.status = S.SENT

    with pytest.raises(ValidationError, match=r"Issue\.objects\.move"):
        issue.save()

    assert row(issue)["status"] == S.DRAFT


@pytest.mark.django_db
def test_an_issue_loaded_before_its_send_started_cannot_put_the_old_status_back_when_saved(weekly):
    issue = make(weekly, S.DRAFT)
    stale = Issue.objects.get(pk=issue.pk)  # an editor's form, opened before the send
    assert Issue.objects.move(issue.pk, S.DRAFT, S.SENDING, sent_html="<p>mailed</p>", send_started_at=timezone.now())

    stale.intro = "A late correction."
    stale.save()

    fresh = Issue.objects.get(pk=issue.pk)
    assert (fresh.status, fresh.sent_html, fresh.intro) == (S.SENDING, "<p>mailed</p>", "A late correction.")
