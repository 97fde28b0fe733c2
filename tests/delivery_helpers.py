"""Helpers for the delivery tests: a real SMTP server (aiosmtpd) on loopback that records every message
and can misbehave on purpose. Not a test module. (Services a test needs: tests/services.py.)"""

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class RecordingHandler:
    """Keeps every accepted message. Faults: addresses refused with 550; 451 for the first `busy_seconds`;
    every `drop_every`-th connection dropped at its second MAIL FROM (a session that dies mid-batch);
    `data_busy`: 451 to DATA for these addresses; `dot_replies`: {address: reply} given once to that message's
    final dot instead of 250 (the message not kept); `dot_drop`: addresses at whose final dot the connection is
    closed once without an answer (not kept); `forbid_ahead`: a server that (against RFC 2920) will not take a MAIL FROM
    behind a final dot: "554" answers that dot "554 5.5.0 Error: SMTP protocol synchronization" and hangs up, "drop"
    hangs up without a word (neither keeps the message). It advertises PIPELINING (RFC 2920) unless `pipelining=False`
    (aiosmtpd reads pipelined commands line by line and answers each in turn, as a real server does).
    `ahead` counts final dots with the next message's MAIL FROM already behind them (one round trip a message)."""

    def __init__(self, **faults):
        self.messages = []
        self.lock = threading.Lock()
        self.holding = threading.Event()
        self.reset(**faults)

    def reset(
        self,
        refuse=(),
        busy_seconds=0,
        drop_every=0,
        hold_at=0,
        hold_seconds=0,
        reply_delay=0,
        drip_delay=0,
        drip="250 OK",
        pipelining=True,
        data_busy=(),
        dot_replies=None,
        dot_drop=(),
        forbid_ahead=None,
    ):
        with self.lock:
            self.pipelining, self.pipelined, self.ahead = pipelining, 0, 0
            self.dot_replies = {a.lower(): reply for a, reply in (dot_replies or {}).items()}
            self.dot_drop = {a.lower() for a in dot_drop}
            self.forbid_ahead = forbid_ahead
            self.data_busy = {a.lower() for a in data_busy}
            self.reply_delay, self.drip_delay, self.drip = reply_delay, drip_delay, drip
            self.messages.clear()
            self.refuse = {a.lower() for a in refuse}
            self.busy_until = time.monotonic() + busy_seconds if busy_seconds else 0
            self.drop_every, self.connections, self.dropped = drop_every, 0, 0
            self.hold_at, self.hold_seconds, self.rcpts = hold_at, hold_seconds, 0
            self.hold_until, self.held = 0, 0
            self.holding.clear()

    # A slow relay: every reply (the greeting too) comes `reply_delay` seconds late; with `drip_delay`,
    # replies starting with `drip` (MAIL's and RCPT's by default) come one byte at a time, each byte
    # `drip_delay` seconds apart: no single read waits long, but the answer takes as long as the server likes.
    reply_delay = 0
    drip_delay = 0
    drip = "250 OK"

    # From the hold_at-th RCPT on, every RCPT waits until hold_seconds have passed since then: each
    # sender is parked waiting for an answer (`held` counts them), with no message half-accepted.
    hold_at = 0
    hold_seconds = 0
    hold_until = 0
    rcpts = 0
    held = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts += 1
            if self.hold_at and self.rcpts == self.hold_at:
                self.hold_until = time.monotonic() + self.hold_seconds
            wait = self.hold_until - time.monotonic()
            if wait > 0:
                self.held += 1
        if wait > 0:
            self.holding.set()
            await asyncio.sleep(wait)
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        if self.busy_until and time.monotonic() < self.busy_until:
            return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0].lower() if envelope.rcpt_tos else ""
        with self.lock:
            ahead = server._reader._buffer.startswith(b"MAIL FROM:")
            self.ahead += ahead
            if ahead and self.forbid_ahead == "drop":
                server.transport.close()
                return "421 closing"  # (never arrives)
            if ahead and self.forbid_ahead == "554":
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
                return "554 5.5.0 Error: SMTP protocol synchronization"
            if recipient in self.dot_drop:
                self.dot_drop.discard(recipient)
                server.transport.close()  # gone before answering: the message is not taken
                return "421 closing"  # (written to a closed transport: never arrives)
            reply = self.dot_replies.pop(recipient, None)
            if reply:
                return reply
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def parsed(self):
        return [email.message_from_bytes(content, policy=email.policy.default) for _, _, content in self.messages]

    def per_recipient(self):
        counts = Counter()
        for _, recipients, _ in self.messages:
            for recipient in recipients:
                counts[recipient.lower()] += 1
        return counts


class FlakySMTP(SMTP):
    async def push(self, status):
        handler = self.event_handler
        if handler.reply_delay and status[3:4] != "-":  # once per reply, not per line of EHLO's
            await asyncio.sleep(handler.reply_delay)
        if handler.drip_delay and status.startswith(handler.drip):
            for byte in (status + "\r\n").encode():
                self._writer.write(bytes([byte]))
                await self._writer.drain()
                await asyncio.sleep(handler.drip_delay)
            return
        await super().push(status)

    def connection_made(self, transport):
        handler = self.event_handler
        with handler.lock:
            handler.connections += 1
            self._flaky = bool(handler.drop_every) and handler.connections % handler.drop_every == 0
        self._mails = 0
        super().connection_made(transport)

    async def smtp_MAIL(self, arg):
        if self._reader._buffer.startswith(b"RCPT TO:"):  # the client wrote its next command without waiting
            with self.event_handler.lock:
                self.event_handler.pipelined += 1
        self._mails += 1
        if self._flaky and self._mails == 2:
            with self.event_handler.lock:
                self.event_handler.dropped += 1
            self.transport.close()  # dropped without a word, before the message is accepted
            return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg):
        handler = self.event_handler
        if self.envelope and any(r.lower() in handler.data_busy for r in self.envelope.rcpt_tos):
            await self.push("451 4.3.0 Not now, try again later")  # to the DATA command: no 354, no message
            return
        await super().smtp_DATA(arg)


class FlakyController(Controller):
    def factory(self):
        return FlakySMTP(self.handler, **self.SMTP_kwargs)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp_server(handler):
    """A real SMTP server on a free loopback port; `.port`, and `.stop()` when done."""
    from newsletter.mail.transport import forget_write_ahead_refusals

    forget_write_ahead_refusals()  # a port an earlier test's server refused write-ahead on may come round again
    controller = FlakyController(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    return controller
