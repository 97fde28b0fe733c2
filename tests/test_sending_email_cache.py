"""A worker works out each edition's email once and reuses it for the send's later batches."""

import pytest
from django.utils import timezone

from newsletter.mail.message import IssueEmail
from newsletter.models import Issue, Subscriber, Subscription
from newsletter.sending import worker


@pytest.fixture
def built(monkeypatch):
    """Counts how many IssueEmail objects the worker makes (the real class, counted)."""
    made = []

    class Counted(IssueEmail):
        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(worker, "IssueEmail", Counted)
    monkeypatch.setattr(worker, "_email_cache", {})
    return made


@pytest.fixture
def sending(rich_issue):
    issue = rich_issue.copy_as_draft()
    for n in range(6):
        person = Subscriber.objects.create(email=f"reader{n}@example.com")
        Subscription.objects.create(subscriber=person, newsletter=issue.newsletter, status="active")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING, send_started_at=timezone.now())
    issue.refresh_from_db()
    worker.freeze(issue)
    return issue


def test_later_batches_of_a_send_reuse_the_email_worked_out_for_the_first(sending, built, settings, mailoutbox):
    settings.DELIVERY_BATCH_SIZE, settings.DELIVERY_TASK_SECONDS = 2, 0  # one claim per task

    for _ in range(3):
        assert worker.send_batch(sending.pk).sent == 2

    assert len(mailoutbox) == 6 and len(built) == 1
    assert len({message.to[0] for message in mailoutbox}) == 6


def test_a_kept_email_is_worked_out_again_once_it_is_old(sending, built, settings, monkeypatch):
    settings.DELIVERY_BATCH_SIZE, settings.DELIVERY_TASK_SECONDS = 2, 0  # one claim per task
    monkeypatch.setattr(worker, "EMAIL_CACHE_SECONDS", 0)

    worker.send_batch(sending.pk)
    worker.send_batch(sending.pk)

    assert len(built) == 2


def test_one_task_claims_again_over_the_same_connection_while_rows_are_due(sending, built, settings, smtp_server):
    settings.DELIVERY_BATCH_SIZE = 2
    server = smtp_server()
    probe = server.connections  # (the server's own readiness probe)

    result = worker.send_batch(sending.pk)

    assert (result.claimed, result.sent) == (6, 6)  # three claims of two
    assert server.connections - probe == 1  # one SMTP session for the three claims
    assert server.ahead == 3  # within each claim, the next envelope went with the final dot
    assert server.per_recipient() == {f"reader{n}@example.com": 1 for n in range(6)}
    assert len(built) == 1


def test_a_task_stops_claiming_once_the_issue_is_paused(sending, settings, smtp_server, monkeypatch):
    settings.DELIVERY_BATCH_SIZE = 2
    server = smtp_server()
    rounds = []
    claim_and_send = worker._claim_and_send

    def pause_after_the_first_claim(issue, transport):
        result = claim_and_send(issue, transport)
        rounds.append(result.sent)
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.PAUSED)  # an editor presses Pause
        return result

    monkeypatch.setattr(worker, "_claim_and_send", pause_after_the_first_claim)
    result = worker.send_batch(sending.pk)

    assert rounds == [2] and result.sent == 2
    assert sum(server.per_recipient().values()) == 2
