"""A batch's lease (newsletter.sending.lease.Lease): no message outlives it, and once another worker has taken
a row over, nothing this batch writes changes it. In-process, against a real SMTP server on loopback."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.sending import lease as leasing
from newsletter.sending import worker


@pytest.fixture
def sending(rich_issue):
    """An issue in SENDING with `count` frozen deliveries."""

    def make(count):
        issue = rich_issue.copy_as_draft()
        for n in range(count):
            person = Subscriber.objects.create(email=f"reader{n}@example.com", name=f"Reader {n}")
            Subscription.objects.create(subscriber=person, newsletter=issue.newsletter, status="active")
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING, send_started_at=timezone.now())
        issue.refresh_from_db()
        worker.freeze(issue)
        return issue

    return make


def lease_for(issue, settings, count):
    import time

    lease = leasing.Lease(leasing.new_lease_token(), settings.DELIVERY_LEASE_SECONDS, started=time.monotonic())
    ids = leasing.claim(issue.pk, count, token=lease.token)
    return lease, ids


def test_a_server_that_drips_its_answers_cannot_keep_a_message_past_the_lease(sending, smtp_server, settings):
    # Each byte comes well within the socket timeout, but MAIL's and RCPT's answers take 2.4 s each: the
    # message would end long after the 3 s lease if only each socket operation were timed.
    settings.DELIVERY_SMTP_TIMEOUT, settings.DELIVERY_LEASE_SECONDS = 1, 3
    server = smtp_server(drip_delay=0.3)
    issue = sending(1)
    lease, ids = lease_for(issue, settings, 1)

    result = worker.BatchResult(issue.pk)
    worker.send_claimed(issue, ids, result, lease)

    assert server.messages == []  # given up before the server could accept it late
    row = Delivery.objects.get(pk=ids[0])
    assert row.status == Delivery.Status.PENDING and row.retry_after is not None
    assert row.last_error.startswith("connection lost") and result.retrying == 1


def test_a_slow_but_steady_server_has_the_lease_renewed_and_is_sent_once(sending, smtp_server, settings):
    # Every answer 0.3 s late (well within the 1.5 s timeout, even on a busy machine): one message, six
    # answers, takes longer than half the 3 s lease, so the lease must be renewed while it is sent.
    settings.DELIVERY_SMTP_TIMEOUT, settings.DELIVERY_LEASE_SECONDS = 1.5, 3
    server = smtp_server(reply_delay=0.3)
    issue = sending(3)
    lease, ids = lease_for(issue, settings, 3)

    result = worker.BatchResult(issue.pk)
    worker.send_claimed(issue, ids, result, lease)

    assert lease.renewals >= 1
    assert result.sent >= 1 and result.sent + result.released == 3  # the rest given back, not left to lapse
    assert server.per_recipient() == {
        row.subscriber.email: 1 for row in Delivery.objects.filter(status=Delivery.Status.SENT)
    }
    given_back = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING)
    assert given_back.count() == result.released
    assert set(given_back.values_list("attempts", flat=True)) <= {0}  # handed back, not counted as a try


def test_a_batch_whose_rows_were_taken_over_writes_nothing(sending, settings):
    issue = sending(3)
    lease, ids = lease_for(issue, settings, 3)
    later = timezone.now() + datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    taken = leasing.claim(issue.pk, 3, now=later)  # the lease ran out; another worker holds the rows now
    assert sorted(taken) == sorted(ids)
    before = list(Delivery.objects.order_by("id").values())

    with pytest.raises(leasing.LeaseLost):
        leasing.record(lease, ids[0], Delivery.Status.FAILED, "550 late")
    with pytest.raises(leasing.LeaseLost):
        leasing.record_transient(lease, ids[1], 1, "451 late", worker.BatchResult(issue.pk))
    assert leasing.release(lease, ids) == 0
    assert not lease.held().exists()

    assert list(Delivery.objects.order_by("id").values()) == before


def test_a_late_worker_stops_at_its_first_message_and_overwrites_nothing(sending, settings):
    issue = sending(3)
    lease, ids = lease_for(issue, settings, 3)
    later = timezone.now() + datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    leasing.claim(issue.pk, 3, now=later)
    before = list(Delivery.objects.order_by("id").values())

    result = worker.BatchResult(issue.pk)
    worker.send_claimed(issue, ids, result, lease)

    assert result.lost and result.sent == 0
    assert len(mail.outbox) <= 1  # the one message in flight when it found out; the rest never left
    assert list(Delivery.objects.order_by("id").values()) == before
