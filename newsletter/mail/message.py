"""An issue's email, worked out once per batch; `IssueEmail.build()` makes one recipient's message."""

import binascii
import random
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr

from django.urls import reverse
from django.utils import timezone, translation

from newsletter.languages import bcp47
from newsletter.mail.addresses import VerpAddresses, bounce_address, unsubscribe_address
from newsletter.mail.headers import date_header, message_domain, message_id, sender
from newsletter.mail.signing import DkimSigner, SignedEmail
from newsletter.rendering import PLACEHOLDERS, READER_TOKEN, fill, greetings, substitutions
from newsletter.tokens import READER_TOKEN_LENGTH, ReaderTokens, absolute, preferences_token, unsubscribe_token


@dataclass
class OutgoingMessage:
    envelope_from: str
    to_address: str
    message_id: str
    raw: bytes
    # For backends that want an EmailMessage (the outbox, locmem, anymail providers).
    subject: str
    from_header: str
    to_header: str
    headers: dict
    html_values: dict
    text_values: dict
    html_template: str
    text_template: str
    # `raw` dot-stuffed for SMTP's DATA (RFC 5321 4.5.2), made from parts stuffed once per issue; None: stuff raw.
    wire: bytes | None = None

    @property
    def html(self):
        return fill(self.html_template, self.html_values)

    @property
    def text(self):
        return fill(self.text_template, self.text_values)

    def as_django_message(self):
        message = SignedEmail(
            subject=self.subject,
            body=self.text,
            from_email=self.envelope_from,
            to=[self.to_header],
            headers={"From": self.from_header, "Return-Path": f"<{self.envelope_from}>", **self.headers},
        )
        message.attach_alternative(self.html, "text/html")
        return message


def _one_line(value):
    return " ".join(str(value).split())


def _encode_header(value):
    return value if value.isascii() else Header(value, "utf-8").encode()


def _qp(value):
    # Quoted-printable in C (binascii), then CRLF line ends for SMTP.
    return binascii.b2a_qp(value.replace("\r\n", "\n").encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


class _TokenLine(str):
    """A line whose only placeholder is the reader token, with its quoted-printable bytes encoded once: the token
    (quoted-printable literals only, as long as its placeholder) replaces the placeholder in those bytes, so lines
    keep their length and their soft breaks. Any other value is filled and encoded like any other line."""

    encoded: bytes
    stuffed: bytes


def _token_line(line):
    others = [p for p in PLACEHOLDERS if p != READER_TOKEN and p in line]
    if others or READER_TOKEN not in line:
        return _slot_line(line)
    encoded = _qp(line)
    if encoded.count(READER_TOKEN.encode()) != line.count(READER_TOKEN):  # a soft break fell inside one
        return _slot_line(line)
    token_line = _TokenLine(line)
    token_line.encoded, token_line.stuffed = encoded, _stuff_lines(encoded)
    return token_line


class _SlotLine(str):
    """Any other line with placeholders, its text between them encoded once (issue 17, second round): `pieces` are
    quoted-printable bytes and placeholder names. Each value is encoded on its own and every piece that does not
    end the line ends in a soft line break ("=" CRLF, which decoding removes), so a recipient's line is a join of
    bytes whatever the values' lengths: the same decoded text as filling the line and encoding it, every encoded
    line still at most 76 characters (tests/test_sending_build_fast.py)."""

    pieces: tuple


_SOFT_BREAK = b"=\r\n"
_PLACEHOLDER_SPLIT = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")")


def _soft(encoded):
    """Quoted-printable bytes that stop mid-line, then a soft line break; the last line shortened to fit the "="."""
    if not encoded:
        return b""
    start = encoded.rfind(b"\r\n") + 2 if b"\r\n" in encoded else 0
    if len(encoded) - start > 75:
        cut = start + 72
        if encoded[cut - 1 : cut] == b"=":  # never inside an "=XX" escape
            cut -= 1
        elif encoded[cut - 2 : cut - 1] == b"=":
            cut -= 2
        encoded = encoded[:cut] + _SOFT_BREAK + encoded[cut:]
    return encoded + _SOFT_BREAK


def _slot_line(line):
    parts = _PLACEHOLDER_SPLIT.split(line)  # text, placeholder, text, …, text
    pieces = []
    for n, part in enumerate(parts):
        if n % 2:
            pieces.append(part)
        elif part:
            pieces.append(_qp(part) if n == len(parts) - 1 else _soft(_qp(part)))
    slot_line = _SlotLine(line)
    slot_line.pieces = tuple(pieces)
    return slot_line


def _slot_values(values):
    """Each placeholder's value, encoded and soft-broken, for the _SlotLines of one part (a missing one stays)."""
    return {p: _soft(_qp(values.get(p, p))) for p in PLACEHOLDERS}


def _qp_segments(body):
    """Split a body into quoted-printable bytes encoded once (lines without placeholders) and lines to
    fill and encode per recipient. Quoted-printable treats each line on its own, so encoding line
    runs separately gives the same bytes as encoding the whole: the body is encoded once per issue."""
    segments, static = [], []
    lines = body.replace("\r\n", "\n").split("\n")
    for n, line in enumerate(lines):
        line = line if n == len(lines) - 1 else line + "\n"
        if "%%" in line and any(p in line for p in PLACEHOLDERS):
            if static:
                segments.append(_qp("".join(static)))
                static = []
            segments.append(_token_line(line))
        else:
            static.append(line)
    if static:
        segments.append(_qp("".join(static)))
    return segments


def _stuff_lines(encoded):
    """Dot-stuff bytes that start at a line start (every segment does): a line starting with "." gets another."""
    stuffed = encoded.replace(b"\r\n.", b"\r\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _encode_segments(segments, stuffed, values):
    """(the part as sent, the same dot-stuffed): static segments were encoded and stuffed once."""
    raw, wire = [], []
    token = values.get(READER_TOKEN, "")
    token = token.encode() if len(token) == READER_TOKEN_LENGTH and token.isascii() else None
    placeholder = READER_TOKEN.encode()
    slot_values = None
    for segment, segment_stuffed in zip(segments, stuffed, strict=True):
        if segment_stuffed is not None:
            raw.append(segment)
            wire.append(segment_stuffed)
        elif token is not None and isinstance(segment, _TokenLine):
            raw.append(segment.encoded.replace(placeholder, token))
            wire.append(segment.stuffed.replace(placeholder, token))
        else:
            if isinstance(segment, _SlotLine):
                slot_values = slot_values or _slot_values(values)
                encoded = b"".join([slot_values[p] if type(p) is str else p for p in segment.pieces])
            else:
                encoded = _qp(fill(segment, values))
            raw.append(encoded)
            wire.append(_stuff_lines(encoded))
    return b"".join(raw), b"".join(wire)


class IssueEmail:
    """Everything about an issue's email worked out once; build() makes one recipient's message.

    Per recipient this does only string substitution, three signed tokens, a quoted-printable
    pass and header formatting: no template, no CSS inlining, no email.message objects.
    """

    def __init__(self, issue, *, subject=None, html=None, text=None, language=None):
        # Its links open the pages in the email's language (/cy/… for Welsh): worked out once, here.
        self.language = language or issue.newsletter.languages[0]
        with translation.override(self.language):
            self._work_out(issue, subject, html, text)

    def _work_out(self, issue, subject, html, text):
        newsletter = issue.newsletter
        self.issue, self.newsletter = issue, newsletter
        self.html = html if html is not None else issue.sent_html
        self.text = text if text is not None else issue.sent_text
        self.subject = _one_line(subject if subject is not None else issue.sent_subject)
        from_name, from_address = sender(newsletter)
        self.domain = message_domain(newsletter)
        self.from_header = formataddr((from_name, from_address), "utf-8")
        self.headers = {
            "List-Id": f"{_encode_header(_one_line(newsletter.name))} <{newsletter.slug}.{self.domain}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
            "Content-Language": bcp47(self.language),
        }
        if newsletter.reply_to:
            self.headers["Reply-To"] = newsletter.reply_to
        self.greeting_forms = greetings()  # in the email's language
        self.unsubscribe_mailto = unsubscribe_address(newsletter)
        # Token URLs by concatenation: reverse() once, not per recipient.
        self.unsubscribe_prefix = absolute(reverse("subscriptions:unsubscribe", args=["TOKEN"])).split("TOKEN")
        self.preferences_prefix = absolute(reverse("subscriptions:preferences", args=["TOKEN"])).split("TOKEN")
        self.reader_tokens = ReaderTokens(issue.pk)  # the web links' token: one HMAC per recipient
        self.verp_addresses = VerpAddresses(newsletter)  # the envelope sender: one HMAC per delivery
        self._date = (None, "")  # (the second, its Date header): formatted once a second, not per message
        self.boundary = "==newsletter-" + binascii.hexlify(random.randbytes(12)).decode()
        self.static_head = (
            f"From: {self.from_header}\r\nSubject: {_encode_header(self.subject)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            + f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
        ).encode("utf-8")
        self.text_head = (
            f"\r\n--{self.boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self.html_head = (
            f"\r\n--{self.boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.dkim = DkimSigner.from_settings()
        self.html_segments = _qp_segments(self.html)
        self.text_segments = _qp_segments(self.text)
        self.html_stuffed = [_stuff_lines(s) if isinstance(s, bytes) else None for s in self.html_segments]
        self.text_stuffed = [_stuff_lines(s) if isinstance(s, bytes) else None for s in self.text_segments]

    def _date_header(self):
        """Date: now, to the second (RFC 5322 has no finer unit), formatted once per second."""
        now = timezone.now()
        second = int(now.timestamp())
        if self._date[0] != second:
            self._date = (second, date_header(now.replace(microsecond=0)))
        return self._date[1]

    def build(self, *, delivery_id, subscriber_id, address, name):
        name = _one_line(name or "")
        unsub_token = unsubscribe_token(subscriber_id, self.newsletter.pk)
        unsubscribe_url = unsub_token.join(self.unsubscribe_prefix)
        preferences_url = preferences_token(subscriber_id).join(self.preferences_prefix)
        html_values, text_values = substitutions(
            name=name,
            unsubscribe_url=unsubscribe_url,
            preferences_url=preferences_url,
            greeting_forms=self.greeting_forms,
            reader_token=self.reader_tokens(subscriber_id) if subscriber_id else "",
        )
        if delivery_id is None:  # a test send
            mid = message_id(self.newsletter)
            envelope_from = bounce_address(self.newsletter)
        else:
            # Stable per delivery: a copy sent again after a crash carries the same Message-ID,
            # which many receiving systems use to drop duplicates.
            mid = f"<issue{self.issue.pk}.d{delivery_id}@{self.domain}>"
            envelope_from = self.verp_addresses(delivery_id)
        to_header = formataddr((name, address), "utf-8")
        mailto = f"mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{unsub_token}"
        list_unsubscribe = f"<{unsubscribe_url}>,\r\n <{mailto}>"
        date = self._date_header()
        personal = (
            f"To: {to_header}\r\nDate: {date}\r\nMessage-ID: {mid}\r\nList-Unsubscribe: {list_unsubscribe}\r\n"
        ).encode()
        text_raw, text_wire = _encode_segments(self.text_segments, self.text_stuffed, text_values)
        html_raw, html_wire = _encode_segments(self.html_segments, self.html_stuffed, html_values)
        # Header lines never start with "." (folded ones start with a space): only the parts differ on the wire.
        head = personal + self.static_head + self.text_head
        raw = b"".join((head, text_raw, self.html_head, html_raw, self.tail))
        wire = b"".join((head, text_wire, self.html_head, html_wire, self.tail))
        if self.dkim:
            signature = self.dkim.sign(raw)
            raw, wire = signature + raw, signature + wire
        return OutgoingMessage(
            envelope_from=envelope_from,
            to_address=address,
            message_id=mid,
            raw=raw,
            subject=self.subject,
            from_header=self.from_header,
            to_header=to_header,
            headers={
                **self.headers,
                "Date": date,
                "Message-ID": mid,
                "List-Unsubscribe": list_unsubscribe.replace("\r\n", ""),
            },
            html_values=html_values,
            text_values=text_values,
            html_template=self.html,
            text_template=self.text,
            wire=wire,
        )
