"""Building a recipient's message in the send loop (issue 17, second round): the parts worked out once per issue
give exactly what the one-off functions give — the VERP envelope sender and the Date header."""

import datetime
import email
import email.policy
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.mail.addresses import VerpAddresses, parse_verp, verp_address
from newsletter.mail.headers import date_header
from newsletter.mail.message import IssueEmail
from newsletter.sending import workflow

pytestmark = pytest.mark.django_db


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivery_id=st.integers(min_value=1, max_value=2**63 - 1))
def test_the_send_loops_verp_address_is_verp_address_byte_for_byte(newsletter, delivery_id):
    # (the newsletter is only read: sharing it between examples is safe)
    made = VerpAddresses(newsletter)(delivery_id)
    assert made == verp_address(delivery_id, newsletter)
    assert parse_verp(made) == delivery_id


def test_the_verp_address_follows_the_secret_key_and_the_bounce_address(newsletter):
    before = VerpAddresses(newsletter)(42)
    with override_settings(SECRET_KEY="another secret key, long enough to be a real one 0123456789"):
        rotated = VerpAddresses(newsletter)(42)
        assert rotated == verp_address(42, newsletter) != before
    with override_settings(DELIVERY_BOUNCE_ADDRESS="returns@bounces.example.net"):
        assert VerpAddresses(newsletter)(42).endswith("@bounces.example.net")
        assert parse_verp(VerpAddresses(newsletter)(42)) == 42


@pytest.fixture
def issue_email(rich_issue):
    sent = workflow.start_send(rich_issue.copy_as_draft())
    return IssueEmail(sent)


def date_of(message):
    return email.message_from_bytes(message.raw, policy=email.policy.default)["Date"]


@override_settings(TIME_ZONE="Europe/London")
def test_each_message_is_dated_by_the_second_it_was_built(issue_email):
    london = ZoneInfo("Europe/London")
    moments = [
        datetime.datetime(2011, 5, 24, 9, 0, 0, 100, tzinfo=london),
        datetime.datetime(2011, 5, 24, 9, 0, 0, 999_000, tzinfo=london),  # the same second
        datetime.datetime(2011, 5, 24, 9, 0, 1, 5, tzinfo=london),  # the next one
        datetime.datetime(2011, 12, 24, 8, 0, 0, tzinfo=london),  # winter: another offset
    ]
    dates = []
    for moment in moments:
        with mock.patch("newsletter.mail.message.timezone.now", return_value=moment):
            message = issue_email.build(delivery_id=7, subscriber_id=None, address="a@example.com", name="A")
        dates.append(date_of(message))
        assert message.headers["Date"] == date_header(moment) == date_of(message)
    assert dates == [
        "Tue, 24 May 2011 09:00:00 +0100",
        "Tue, 24 May 2011 09:00:00 +0100",
        "Tue, 24 May 2011 09:00:01 +0100",
        "Sat, 24 Dec 2011 08:00:00 +0000",
    ]


def test_the_envelope_sender_of_a_delivery_is_its_verp_address(issue_email):
    message = issue_email.build(delivery_id=1234, subscriber_id=None, address="a@example.com", name="A")
    assert message.envelope_from == verp_address(1234, issue_email.newsletter)
    assert parse_verp(message.envelope_from) == 1234


class _Conn:
    """What _Replies uses of smtplib.SMTP: the socket, the deadline, the lease, close()."""

    lease = None

    def __init__(self, sock):
        self.sock, self.closed = sock, False

    def _budget(self):
        return 5

    def close(self):
        self.closed = True


@pytest.fixture
def pair():
    import socket

    ours, server = socket.socketpair()
    yield _Conn(ours), server
    ours.close()
    server.close()


def test_pipelined_replies_are_read_as_smtplib_reads_them(pair):
    from newsletter.mail.transport import _Replies

    conn, server = pair
    # Three replies in one read, a multi-line one, and one split across reads.
    server.sendall(b"250 2.1.0 Ok\r\n250-first\r\n250-second\r\n250 last\r\n354 End data with <CR><LF>.<CR><LF>\r\n45")
    replies = _Replies(conn)
    assert replies.read() == (250, b"2.1.0 Ok")
    assert replies.read() == (250, b"first\nsecond\nlast")
    assert replies.read() == (354, b"End data with <CR><LF>.<CR><LF>")
    server.sendall(b"1 4.3.0 try later\r\n")
    assert replies.read() == (451, b"4.3.0 try later")
    server.sendall(b"xyz garbled\r\n")
    assert replies.read() == (-1, b"garbled")
    assert not conn.closed


def test_a_closed_connection_or_an_endless_line_is_an_smtp_error(pair):
    import smtplib

    from newsletter.mail.transport import _Replies

    conn, server = pair
    server.sendall(b"2" * (smtplib._MAXLINE + 10))
    with pytest.raises(smtplib.SMTPResponseException, match="Line too long"):
        _Replies(conn).read()
    assert conn.closed
    conn.closed = False
    server.close()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        _Replies(conn).read()
    assert conn.closed


# A line with placeholders: its text encoded once, each value on its own, joined by soft line breaks.
_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=200)
_value = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=300)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.tuples(_text, st.sampled_from(range(4))), min_size=1, max_size=6),
    tail=_text,
    newline=st.booleans(),
    values=st.lists(_value, min_size=4, max_size=4),
)
def test_a_line_with_placeholders_decodes_to_the_filled_line_and_stays_within_76(pieces, tail, newline, values):
    import binascii

    from newsletter.mail import message as mail_message
    from newsletter.rendering import PLACEHOLDERS, fill

    line = "".join(text + PLACEHOLDERS[n] for text, n in pieces) + tail + ("\n" if newline else "")
    by_placeholder = dict(zip(PLACEHOLDERS, values, strict=True))
    slot_line = mail_message._slot_line(line)
    assert isinstance(slot_line, mail_message._SlotLine)

    raw, wire = mail_message._encode_segments([slot_line], [None], by_placeholder)

    filled = fill(line, by_placeholder).replace("\n", "\r\n")
    assert binascii.a2b_qp(raw).decode() == filled
    assert all(len(physical) <= 76 for physical in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert wire == mail_message._stuff_lines(raw)


def test_the_issue_as_mailed_decodes_to_each_readers_own_text(issue_email):
    message = issue_email.build(delivery_id=9, subscriber_id=None, address="sian@example.com", name="Siân = Jones.")
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    for kind, expected in (("html", message.html), ("plain", message.text)):
        body = parsed.get_body((kind,))
        assert body["Content-Transfer-Encoding"] == "quoted-printable"
        assert body.get_content().replace("\r\n", "\n") == expected.replace("\r\n", "\n")
    assert "Siân = Jones." in message.text
    assert all(len(line) <= 76 for line in message.raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))
