"""Recording results without waiting on the database in the hot loop (issue 17, newsletter/sending/results.py),
and the bound docs/delivery.md promises: a message's result is on its way to the database before the SMTP server
can accept the next one (committed whatever happens to the worker next), and confirmed before the one after.
Transactional (committed rows, autocommit: on PostgreSQL the pipelined path), against a real SMTP server on
loopback whose thread looks at the database the moment each message's final dot arrives."""

import asyncio
import time

import pytest
from django.db import connection
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.sending import lease as leasing
from newsletter.sending import worker
from tests.delivery_helpers import RecordingHandler, start_smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


class WatchingHandler(RecordingHandler):
    """At each final dot, before answering, notes how many deliveries the database has as sent once every result
    already sent to it has been applied (it waits up to two seconds for the count to reach one per earlier message:
    a result the worker had not sent yet would never arrive, as the worker is waiting for this answer);
    `steal_at`: at that message, another worker takes its row over (a new lease token)."""

    steal_at = 0

    def _look(self, recipient):
        try:
            sent = Delivery.objects.filter(status=Delivery.Status.SENT)
            deadline = time.monotonic() + 2
            while sent.count() < len(self.recorded_before) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.recorded_before.append(sent.count())
            if self.steal_at and len(self.recorded_before) == self.steal_at:
                Delivery.objects.filter(subscriber__email=recipient).update(lease_token=leasing.new_lease_token())
        finally:
            connection.close()  # this thread's own connection

    async def handle_DATA(self, server, session, envelope):
        await asyncio.to_thread(self._look, envelope.rcpt_tos[0])  # (the ORM refuses to run in an event loop)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def watching(settings):
    handler = WatchingHandler()
    handler.recorded_before = []
    controller = start_smtp_server(handler)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "", False, False
    yield handler
    controller.stop()


@pytest.fixture
def claimed(rich_issue, settings):
    def make(count):
        issue = rich_issue.copy_as_draft()
        for n in range(count):
            person = Subscriber.objects.create(email=f"rec{n}@example.com", name=f"Reader {n}")
            Subscription.objects.create(subscriber=person, newsletter=issue.newsletter, status="active")
        Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING, send_started_at=timezone.now())
        issue.refresh_from_db()
        worker.freeze(issue)
        lease = leasing.Lease(leasing.new_lease_token(), settings.DELIVERY_LEASE_SECONDS, started=time.monotonic())
        ids = leasing.claim(issue.pk, count, token=lease.token)
        return issue, lease, ids

    return make


def test_each_result_is_recorded_before_the_server_can_accept_the_next_message(claimed, watching):
    issue, lease, ids = claimed(8)

    result = worker.BatchResult(issue.pk)
    worker.send_claimed(issue, ids, result, lease)

    assert watching.pipelined == 8
    # At the k-th final dot exactly k-1 results are in the database: every earlier one, not this one yet.
    assert watching.recorded_before == list(range(8))
    assert result.sent == 8
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 8


def test_a_row_taken_over_while_its_result_is_in_flight_stops_the_batch_before_the_message_after_next(
    claimed, watching
):
    issue, lease, ids = claimed(6)
    watching.steal_at = 3  # another worker takes the 3rd row while the server is accepting it

    result = worker.BatchResult(issue.pk)
    worker.send_claimed(issue, ids, result, lease)

    rows = list(Delivery.objects.filter(issue=issue).order_by("id").values_list("status", "lease_token"))
    assert rows[2][1] != lease.token  # the other worker's claim, not overwritten
    if connection.vendor == "postgresql":
        # The 3rd result is confirmed (and found not ours) before the 5th message's final dot; the 4th, whose row
        # was still this batch's, was sent and recorded meanwhile.
        assert result.lost and result.sent == 3
        assert len(watching.messages) == 4  # the 5th message never reached its final dot
        assert [status for status, _ in rows] == ["sent", "sent", "sending", "sent", "sending", "sending"]
    else:  # SQLite records each result before going on: the 4th never reaches its final dot
        assert result.lost and result.sent == 2
        assert len(watching.messages) == 3
        assert [status for status, _ in rows] == ["sent", "sent", "sending", "sending", "sending", "sending"]


@pytest.mark.postgres
@pytest.mark.parametrize("stolen", [0, 1])
def test_a_batch_stopping_on_a_row_taken_over_leaves_the_database_connection_usable(claimed, stolen):
    # Results in flight through libpq's pipeline mode, one of them for a row another worker took: whichever is
    # judged last, the connection must leave pipeline mode, or every later query on it fails.
    from newsletter.sending.results import Recorder

    issue, lease, ids = claimed(2)
    Delivery.objects.filter(id=ids[stolen]).update(lease_token=leasing.new_lease_token())
    recorder = Recorder(lease)
    for delivery_id in ids:
        recorder.sent(delivery_id, f"<{delivery_id}@test>", timezone.now())
    recorder.close()

    statuses = dict(Delivery.objects.filter(issue=issue).values_list("id", "status"))
    assert statuses[ids[stolen]] == "sending" and statuses[ids[1 - stolen]] == "sent"
    assert recorder.confirmed == 1
