"""Handing messages to the mail server: SMTP with a deadline per operation, or any Django email backend.

When the server advertises PIPELINING (RFC 2920; Postfix, smtp-sink and every major relay do), MAIL FROM,
RCPT TO and DATA go out in one write and their three replies are read together, then the message (already
dot-stuffed, `OutgoingMessage.wire`) and its final dot. When the caller says which message comes next, that
message's MAIL FROM, RCPT TO and DATA go out in the same write as this one's final dot (RFC 2920 lets the
commands after the end of data share its group), and their replies are read when it is sent: **one round trip
per message** instead of four. A message is only accepted at its own final dot, so sending the next envelope
early accepts nothing sooner (docs/delivery.md, "Exactly once"). Replies are judged exactly as smtplib's
sendmail judges them (a refused sender, a refused recipient, a refused DATA, the answer to the final dot), so
4xx / 5xx / a dropped connection mean what they meant before. A server without PIPELINING gets plain smtplib.
"""

import contextlib
import io
import json
import logging
import smtplib
import socket
import time

from django.conf import settings
from django.core.mail import get_connection

logger = logging.getLogger("newsletter.delivery")

# Servers (host, port) that answered that pipelining was out of step, or closed the connection three times, when a
# final dot had the next envelope behind it. RFC 2920 allows that group, and Postfix takes it even with
# smtpd_forbid_unauth_pipelining (docs/delivery.md), but a server that does not gets two round trips a message from
# this worker process on, instead of a retry for every message.
_NO_WRITE_AHEAD = set()
_DROPS_AHEAD = {}  # (host, port): connections closed right after an envelope written ahead
DROPS_BEFORE_NO_WRITE_AHEAD = 3


def forget_write_ahead_refusals():
    """Write ahead to every server again (tests start each with a fresh server that may reuse a port)."""
    _NO_WRITE_AHEAD.clear()
    _DROPS_AHEAD.clear()


def _out_of_step(code, text):
    return code >= 500 and any(word in text.lower() for word in (b"synchroniz", b"pipelining"))


class _OutOfStep(smtplib.SMTPDataError):
    """The server refused our pipelining, not the message: a 451, so the delivery is tried again later."""

    def __init__(self, text):
        super().__init__(451, text)


class TransientError(Exception):
    """Try again later: a 4xx answer, a dropped or refused connection, a timeout."""


class PermanentError(Exception):
    """Do not try again: a 5xx answer, or an address that cannot be sent to."""


def _classify(code, text):
    reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()
    if 400 <= code < 500:
        return TransientError(reason)
    return PermanentError(reason)


class _DeadlineMixin:
    """smtplib with a deadline for the whole conversation, not only a timeout per socket operation.

    Every connect, write and read is given min(timeout, time left until `lease.deadline`), re-read
    before each operation (the lease may have been renewed), so one message can never run past
    the lease however slowly the server drips its answers. Each answer received is progress: the
    lease is renewed then when it is due.
    """

    lease = None

    def _budget(self):
        if self.lease is None:
            return self.timeout
        left = self.lease.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the lease ends before the server has answered")
        return min(self.timeout, left)

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(host, port, self._budget())

    def send(self, s):
        if self.sock:
            self.sock.settimeout(self._budget())
        super().send(s)

    def getreply(self):
        if self.file is None and self.sock:
            self.file = io.BufferedReader(_DeadlineSocketIO(self.sock, self._budget))
        reply = super().getreply()
        if self.lease is not None:
            self.lease.renew_if_due()  # a row taken over shows when its result is written
        return reply


class _DeadlineSocketIO(socket.SocketIO):
    """Reads that each get the time left, not a fresh full timeout (a server dripping bytes)."""

    def __init__(self, sock, budget):
        super().__init__(sock, "rb")
        self._budget = budget

    def readinto(self, buffer):
        self._sock.settimeout(self._budget())
        return super().readinto(buffer)


class _SMTP(_DeadlineMixin, smtplib.SMTP):
    pass


class _SMTP_SSL(_DeadlineMixin, smtplib.SMTP_SSL):
    pass


def dot_stuff(raw):
    """RFC 5321 4.5.2: a line starting with "." gets another. `raw` has CRLF line ends."""
    stuffed = raw.replace(b"\r\n.", b"\r\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _envelope_address(address):
    """The address as it goes between < and > (ASCII only, as smtplib sends it; no line breaks, no brackets)."""
    if any(c in address for c in "\r\n<>"):
        raise ValueError("a line break or angle bracket in the address")
    return address.encode("ascii")


class SMTPTransport:
    """One SMTP connection reused for a whole batch (EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS/SSL, …).

    After an error the session is reset (RSET), or dropped and reopened on the next message,
    so one refused address or one dropped connection does not fail the rest of the batch.
    """

    def __init__(self):
        self.timeout = settings.DELIVERY_SMTP_TIMEOUT
        self.conn = None
        self.replies = None  # the pipelined path's reader for this connection (_Replies)
        self.pending = None  # the message whose envelope went out with the previous final dot, replies unread

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _connect(self, lease):
        conn = (_SMTP_SSL if getattr(settings, "EMAIL_USE_SSL", False) else _SMTP)(timeout=self.timeout)
        conn.lease = lease
        conn.connect(settings.EMAIL_HOST, settings.EMAIL_PORT)
        if getattr(settings, "EMAIL_USE_TLS", False):
            conn.starttls()
        if settings.EMAIL_HOST_USER:
            conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        return conn

    def close(self):
        if self.pending is not None:  # an envelope the caller did not send after all; the server may be in DATA
            self.abandon()
        if self.conn is not None:
            self.conn.lease = None  # QUIT is said after the last message; it renews nothing
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = self.replies = None

    def abandon(self):
        """Drop the connection without a word (mid-conversation after a lost lease)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.replies = self.pending = None

    _drop = abandon

    def _reset(self, code=None):
        if self.conn is None:  # already dropped
            return
        if code == 421:  # the server is closing the session
            self._drop()
            return
        if self.pending is not None:
            # Only the final dot can have failed with the next envelope behind it: that reply ended the
            # transaction already, and RSET would cancel the next message's envelope instead.
            return
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def send(self, message, lease=None, next_message=None):
        """Send `message`; `next_message`, if given, is the one the caller sends next (its envelope may go early).

        Raises TransientError or PermanentError for this message only."""
        if self.pending is not None and self.pending is not message:
            self._drop()  # the caller sends something else than it announced: start a clean session
        try:
            if self.conn is None:
                self.conn = self._connect(lease)
                self.conn.ehlo_or_helo_if_needed()
                self.pipelining = self.conn.has_extn("pipelining")
            self.conn.lease = lease
            if self.pipelining:
                self._send_pipelined(message, next_message)
            else:
                if lease is not None:
                    lease.quiet()
                self.conn.sendmail(message.envelope_from, [message.to_address], message.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(message.to_address, (550, b"refused"))
            self._reset(code)
            raise _classify(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, 4xx/5xx at connect
            self._reset(exc.smtp_code)
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientError(f"connection lost: {exc or type(exc).__name__}") from exc
        except (smtplib.SMTPException, UnicodeError, ValueError) as exc:
            self._reset()
            raise PermanentError(f"cannot send to this address: {exc}") from exc

    pipelining = False

    def _send_pipelined(self, message, next_message):
        if self.replies is None:
            self.replies = _Replies(self.conn)
        replies = self.replies
        written_ahead = self.pending is message
        if not written_ahead:
            replies.write(_envelope(message, self.conn))
        self.pending = None
        with self._watching_write_ahead(written_ahead):
            mail, rcpt, data = replies.read(), replies.read(), replies.read()  # all three, before judging any
            if written_ahead and _out_of_step(*mail):
                raise _OutOfStep(mail[1])
        if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # A server that wants the message though the envelope failed (RFC 2920 says it must not):
            # the session is in DATA, where RSET would be message text. Drop it.
            self._drop()
            data = (503, b"DATA accepted after a refused envelope; connection dropped")
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], message.envelope_from)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({message.to_address: rcpt})
        if data[0] != 354:
            raise smtplib.SMTPDataError(*data)
        following = b""
        if next_message is not None and self._server() not in _NO_WRITE_AHEAD:
            # An address that cannot go out is refused when that message is sent, before anything is written.
            with contextlib.suppress(ValueError):
                following = _envelope(next_message, self.conn)
        if self.conn.lease is not None:
            self.conn.lease.before_accepting()  # older results confirmed before this one can be accepted
        body = _body(message)
        replies.write((body + b".\r\n" if body.endswith(b"\r\n") else body + b"\r\n.\r\n") + following)
        if following:
            self.pending = next_message
        with self._watching_write_ahead(bool(following)):
            code, text = replies.read()
            if following and _out_of_step(code, text):
                raise _OutOfStep(text)
        if code != 250:
            raise smtplib.SMTPDataError(code, text)

    @staticmethod
    def _server():
        return (settings.EMAIL_HOST, settings.EMAIL_PORT)

    @contextlib.contextmanager
    def _watching_write_ahead(self, wrote_ahead):
        """A server that says it is out of step right after a final dot with the next envelope behind it (or at that
        envelope), or drops the connection there three times, gets no more envelopes ahead from this process."""
        try:
            yield
        except (smtplib.SMTPServerDisconnected, OSError, _OutOfStep) as exc:
            server = self._server()
            if wrote_ahead and server not in _NO_WRITE_AHEAD:
                _DROPS_AHEAD[server] = _DROPS_AHEAD.get(server, 0) + 1
                if isinstance(exc, _OutOfStep) or _DROPS_AHEAD[server] >= DROPS_BEFORE_NO_WRITE_AHEAD:
                    _NO_WRITE_AHEAD.add(server)
                    logger.warning(json.dumps({"event": "write_ahead_off", "server": "{}:{}".format(*server)}))
            raise


def _body(message):
    return message.wire if message.wire is not None else dot_stuff(message.raw)


def _envelope(message, conn):
    """MAIL FROM, RCPT TO and DATA for one message, as one pipelined group (ValueError: an unsendable address)."""
    sender, recipient = _envelope_address(message.envelope_from), _envelope_address(message.to_address)
    size = b" SIZE=%d" % len(_body(message)) if conn.has_extn("size") else b""
    return b"MAIL FROM:<%s>%s\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, size, recipient)


class _Replies:
    """The pipelined path's own socket use (issue 17): each write is one sendall of prebuilt bytes, and replies
    are parsed from one buffer filled by recv (pipelined replies usually arrive in one read), instead of
    smtplib's readline per line through a file object. Replies are read as smtplib.getreply reads them (the
    same codes, texts, "Line too long" and closed-connection errors); every socket operation gets the time left
    before the lease's deadline, and each reply renews the lease when due, as _DeadlineMixin does.

    Only whole replies are taken from the buffer, and a reply is only asked for after a command that wants
    one, so nothing is left behind for smtplib's own reader (RSET, QUIT) after a message."""

    def __init__(self, conn):
        self.conn, self.sock = conn, conn.sock
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        self.buffer = b""

    def write(self, data):
        self.sock.settimeout(self.conn._budget())
        self.sock.sendall(data)

    def read(self):
        lines = []
        while True:
            line = self._line()
            code, more = line[:3], line[3:4] == b"-"
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                errcode = int(code)
            except ValueError:
                errcode = -1
                break
            if not more:
                break
        lease = self.conn.lease
        if lease is not None:
            lease.renew_if_due()  # a row taken over shows when its result is written
        return errcode, b"\n".join(lines)

    def _line(self):
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line, self.buffer = self.buffer[: end + 1], self.buffer[end + 1 :]
                if len(line) > smtplib._MAXLINE:
                    self.conn.close()
                    raise smtplib.SMTPResponseException(500, "Line too long.")
                return line
            if len(self.buffer) > smtplib._MAXLINE:
                self.conn.close()
                raise smtplib.SMTPResponseException(500, "Line too long.")
            self.sock.settimeout(self.conn._budget())
            try:
                chunk = self.sock.recv(65536)
            except OSError as exc:
                self.conn.close()
                raise smtplib.SMTPServerDisconnected(f"Connection unexpectedly closed: {exc}") from exc
            if not chunk:
                self.conn.close()
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            self.buffer += chunk


class DjangoBackendTransport:
    """Any other EMAIL_BACKEND (the file outbox with no EMAIL_URL, locmem in tests, anymail providers)."""

    def __init__(self):
        self.timeout = settings.DELIVERY_SMTP_TIMEOUT
        self.backend = get_connection(fail_silently=False)

    def __enter__(self):
        self.backend.open()
        return self

    def __exit__(self, *exc):
        self.backend.close()

    def abandon(self):
        pass

    def send(self, message, lease=None, next_message=None):
        if lease is not None:
            lease.quiet()
        try:
            self.backend.send_messages([message.as_django_message()])
        except OSError as exc:
            raise TransientError(str(exc)) from exc
        except Exception as exc:
            raise PermanentError(str(exc)) from exc


def open_transport():
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SMTPTransport()
    return DjangoBackendTransport()
