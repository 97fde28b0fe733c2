"""Handing messages to the mail server: SMTP with a deadline per message, or any Django email backend."""

import io
import smtplib
import socket
import time

from django.conf import settings
from django.core.mail import get_connection


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


class SMTPTransport:
    """One SMTP connection reused for a whole batch (EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS/SSL, …).

    After an error the session is reset (RSET), or dropped and reopened on the next message,
    so one refused address or one dropped connection does not fail the rest of the batch.
    """

    def __init__(self):
        self.timeout = settings.DELIVERY_SMTP_TIMEOUT
        self.conn = None

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
        if self.conn is not None:
            self.conn.lease = None  # QUIT is said after the last message; it renews nothing
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def abandon(self):
        """Drop the connection without a word (mid-conversation after a lost lease)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    _drop = abandon

    def _reset(self, code=None):
        if code == 421:  # the server is closing the session
            self._drop()
            return
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def send(self, message, lease=None):
        try:
            if self.conn is None:
                self.conn = self._connect(lease)
            self.conn.lease = lease
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

    def send(self, message, lease=None):
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
