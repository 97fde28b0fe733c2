"""Pipelined SMTP (RFC 2920, issue 17): against a real server on loopback that advertises PIPELINING, MAIL FROM,
RCPT TO and DATA go out together, and failures mean exactly what they meant one command at a time: a refused
recipient fails that delivery alone, a 451 to DATA is retried later, a connection dropped mid-group loses
nobody and sends nobody twice. A server without PIPELINING gets plain SMTP. The message is dot-stuffed once
per issue and arrives byte for byte as built."""

import datetime
import smtplib

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from newsletter.mail.message import IssueEmail, _stuff_lines
from newsletter.mail.transport import dot_stuff
from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.sending import worker, workflow


@pytest.fixture
def readers(newsletter):
    newsletter.sender_email = "news@pipe.example.org"
    newsletter.save()

    def make(count):
        people = []
        for n in range(count):
            person = Subscriber.objects.create(email=f"pipe{n}@example.com", name=f"Reader {n}")
            Subscription.objects.create(
                subscriber=person,
                newsletter=newsletter,
                status=Subscription.Status.ACTIVE,
                confirmed_at=timezone.now() - datetime.timedelta(days=1),
            )
            people.append(person)
        return people

    return make


@pytest.fixture
def start(rich_issue, django_capture_on_commit_callbacks):
    def run():
        draft = rich_issue.copy_as_draft()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(draft)
        draft.refresh_from_db()
        return draft

    return run


def statuses(issue):
    return dict(Delivery.objects.filter(issue=issue).values_list("subscriber__email", "status"))


def run_due_batches(issue, settings, rounds=10):
    """What the worker's chain does once retries are due (eager tests do not wait for countdowns)."""
    for _ in range(rounds):
        Delivery.objects.filter(issue=issue, status=Delivery.Status.PENDING).update(retry_after=None)
        worker.send_batch(issue.pk)
        if not Delivery.objects.filter(issue=issue, status__in=worker.OPEN).exists():
            return


def test_a_refused_recipient_inside_a_pipelined_group_fails_alone(readers, start, smtp_server):
    people = readers(5)
    server = smtp_server(refuse=[people[2].email])

    issue = start()

    assert server.pipelined >= 4  # each message's MAIL FROM arrived with its RCPT TO and DATA behind it
    assert statuses(issue) == {
        p.email: Delivery.Status.FAILED if p == people[2] else Delivery.Status.SENT for p in people
    }
    assert "550" in Delivery.objects.get(issue=issue, subscriber=people[2]).last_error
    assert server.per_recipient() == {p.email: 1 for p in people if p != people[2]}
    assert issue.status == Issue.Status.SENT


def test_a_451_to_data_is_retried_later_and_not_lost(readers, start, smtp_server, settings):
    people = readers(4)
    server = smtp_server(data_busy=[people[1].email])

    issue = start()

    waiting = Delivery.objects.get(issue=issue, subscriber=people[1])
    assert waiting.status == Delivery.Status.PENDING and waiting.retry_after is not None
    assert "451" in waiting.last_error
    assert server.per_recipient() == {p.email: 1 for p in people if p != people[1]}

    server.data_busy = set()  # the server recovers
    run_due_batches(issue, settings)

    assert server.per_recipient() == {p.email: 1 for p in people}
    assert set(statuses(issue).values()) == {Delivery.Status.SENT}


def test_a_connection_dropped_mid_group_loses_nobody_and_sends_nobody_twice(readers, start, smtp_server, settings):
    people = readers(6)
    server = smtp_server(drop_every=1)  # every session dies at its second MAIL FROM, RCPT and DATA already written

    issue = start()
    run_due_batches(issue, settings, rounds=12)

    assert server.per_recipient() == {p.email: 1 for p in people}
    assert set(statuses(issue).values()) == {Delivery.Status.SENT}
    assert server.pipelined >= 6


def test_the_next_envelope_goes_out_with_the_final_dot(readers, start, smtp_server):
    people = readers(5)
    server = smtp_server()

    issue = start()

    assert server.ahead == 4  # every final dot but the last had the next MAIL FROM, RCPT TO and DATA behind it
    assert server.per_recipient() == {p.email: 1 for p in people}
    assert issue.status == Issue.Status.SENT


@pytest.mark.parametrize(
    ("reply", "then"),
    [("554 5.6.0 Message refused", Delivery.Status.FAILED), ("451 4.3.0 Later", Delivery.Status.PENDING)],
)
def test_a_refused_final_dot_with_the_next_envelope_behind_it_fails_that_message_alone(
    readers, start, smtp_server, settings, reply, then
):
    people = readers(5)
    server = smtp_server(dot_replies={people[1].email: reply})
    connected = server.connections  # (the server's own readiness probe)

    issue = start()

    assert statuses(issue)[people[1].email] == then
    assert reply[:3] in Delivery.objects.get(issue=issue, subscriber=people[1]).last_error
    # The message whose envelope was already on its way is sent on the same connection, once.
    assert server.per_recipient() == {p.email: 1 for p in people if p != people[1]}
    assert server.connections - connected == 1 and server.ahead == 4
    run_due_batches(issue, settings)  # a 451 is tried again later and then taken; a 554 is not
    assert server.per_recipient()[people[1].email] == (1 if then == Delivery.Status.PENDING else 0)


def test_a_connection_dropped_at_a_final_dot_with_the_next_envelope_behind_it_loses_nobody(
    readers, start, smtp_server, settings
):
    people = readers(5)
    server = smtp_server(dot_drop=[people[2].email])
    connected = server.connections  # (the server's own readiness probe)

    issue = start()
    waiting = Delivery.objects.get(issue=issue, subscriber=people[2])
    assert waiting.status == Delivery.Status.PENDING and "connection lost" in waiting.last_error
    # The message behind the dropped one went on a new connection, once.
    assert server.per_recipient() == {p.email: 1 for p in people if p != people[2]}
    assert server.connections - connected == 2
    run_due_batches(issue, settings)

    assert server.per_recipient() == {p.email: 1 for p in people}
    assert set(statuses(issue).values()) == {Delivery.Status.SENT}


@pytest.mark.parametrize("refusal", ["554", "drop"])
def test_a_server_that_will_not_take_an_envelope_behind_a_final_dot_still_gets_everyone_once(
    readers, start, smtp_server, settings, refusal
):
    people = readers(6)
    server = smtp_server(forbid_ahead=refusal)

    issue = start()
    run_due_batches(issue, settings, rounds=12)

    # The messages it refused are retried (never failed), and the worker stops writing envelopes ahead to it: at
    # once when it says it is out of step, after three dropped connections when it just hangs up.
    assert server.per_recipient() == {p.email: 1 for p in people}
    assert set(statuses(issue).values()) == {Delivery.Status.SENT}
    assert server.ahead == (1 if refusal == "554" else 3)


def test_a_server_without_pipelining_gets_one_command_at_a_time(readers, start, smtp_server):
    people = readers(3)
    server = smtp_server(pipelining=False, refuse=[people[0].email])

    issue = start()

    assert server.pipelined == 0
    assert server.per_recipient() == {p.email: 1 for p in people[1:]}
    assert statuses(issue)[people[0].email] == Delivery.Status.FAILED


def test_lines_starting_with_a_dot_arrive_exactly_as_built(readers, smtp_server, rich_issue):
    # Quoted-printable leaves a leading "." alone: the once-per-issue stuffing must double it, the server undo it.
    issue = rich_issue.copy_as_draft()
    issue.sent_subject, issue.sent_html = "Dots", "<p>x</p>\n.starts with a dot\n.\n..two\n"
    issue.sent_text = ".hidden\nHello %%GREETING%%\n.%%GREETING%%\n"
    people = readers(1)
    server = smtp_server()
    message = IssueEmail(issue).build(delivery_id=7, subscriber_id=people[0].pk, address=people[0].email, name=".Al")

    from newsletter.mail.transport import SMTPTransport

    with SMTPTransport() as transport:
        transport.send(message)

    assert server.pipelined == 1
    assert server.messages[0][2].replace(b"\r\n", b"\n") == message.raw.replace(b"\r\n", b"\n")
    assert message.wire == dot_stuff(message.raw)


def test_an_address_with_a_line_break_is_refused_before_anything_is_written(readers, smtp_server, rich_issue):
    issue = rich_issue.copy_as_draft()
    issue.sent_subject, issue.sent_html, issue.sent_text = "x", "<p>x</p>", "x"
    server = smtp_server()
    bad = IssueEmail(issue).build(delivery_id=8, subscriber_id=1, address="a@example.com>\r\nRCPT TO:<b@x.org", name="")

    from newsletter.mail.transport import PermanentError, SMTPTransport

    with SMTPTransport() as transport, pytest.raises(PermanentError, match="cannot send to this address"):
        transport.send(bad)
    assert server.messages == [] and server.pipelined == 0


line = st.text(alphabet=".ab =\t", max_size=6)


@given(st.lists(line, max_size=8))
def test_stuffing_once_per_issue_matches_smtplib(lines):
    raw = "\r\n".join(lines).encode() + b"\r\n"
    assert _stuff_lines(raw) == dot_stuff(raw) == smtplib._quote_periods(raw)
