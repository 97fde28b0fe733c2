"""bench_send's sinks and its bare loop (not a command: the command is management/commands/bench_send.py).

- CountingSink: a small asyncio SMTP server on loopback that advertises PIPELINING, accepts everything and
  counts copies per recipient; `latency_ms` holds back each burst of replies that long (a relay far away:
  pipelined replies come back together, one round trip, as from a real server).
- ExternalSink: any other server started from a command line (Postfix's smtp-sink), on a free loopback port
  written where the command says `{port}`; with smtp-sink's `-c` its message counter is read back.
- raw_loop: the yardstick. K forked processes, each with one reused smtplib connection, send N copies of one
  pre-rendered message personalised by string replacement: no database, no broker, no pipelining.
"""

import asyncio
import os
import re
import shlex
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter


class CountingSink:
    """A fast SMTP server on loopback that accepts everything and counts messages per recipient."""

    def __init__(self, latency_ms=0):
        self.per_recipient = Counter()
        self.messages = 0
        self.port = None
        self.latency = latency_ms / 1000
        self._ready = threading.Event()
        self._loop = None

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)
        return self

    def _run(self):
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", 0, limit=64 * 1024 * 1024)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def stop(self):
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def count(self, suffix):
        """(recipients ending in `suffix` that got a copy, extra copies among them)."""
        mine = [c for k, c in self.per_recipient.items() if k.endswith(suffix.encode())]
        return len(mine), sum(c - 1 for c in mine if c > 1)

    async def _reply(self, reader, writer, pending, text):
        pending.append(text)
        # Replies wait while more pipelined commands are already here; then, after the latency, go together.
        if not reader._buffer:  # asyncio keeps here what has arrived but not been read
            if self.latency:
                await asyncio.sleep(self.latency)
            writer.write(b"".join(pending))
            pending.clear()
            await writer.drain()

    async def _session(self, reader, writer):
        recipients, pending = [], []
        try:
            await self._reply(reader, writer, pending, b"220 sink ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"EHLO":
                    reply = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 67108864\r\n"
                elif verb == b"MAIL" or verb == b"RSET":
                    recipients = []
                    reply = b"250 ok\r\n"
                elif verb == b"RCPT":
                    recipients.append(line[8:].strip().strip(b"<>").lower())
                    reply = b"250 ok\r\n"
                elif verb == b"DATA":
                    await self._reply(reader, writer, pending, b"354 go on\r\n")
                    await reader.readuntil(b"\r\n.\r\n")
                    self.messages += 1
                    for recipient in recipients:
                        self.per_recipient[recipient] += 1
                    reply = b"250 queued\r\n"
                elif verb == b"QUIT":
                    await self._reply(reader, writer, pending, b"221 bye\r\n")
                    break
                else:
                    reply = b"250 ok\r\n"
                await self._reply(reader, writer, pending, reply)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ExternalSink:
    """A sink started from a command line, e.g. "/usr/sbin/smtp-sink -c -u nobody 127.0.0.1:{port} 1000"."""

    def __init__(self, command):
        if "{port}" not in command:
            raise ValueError("--sink-command must say where the port goes: {port}")
        self.port = free_port()
        self.command = shlex.split(command.replace("{port}", str(self.port)))
        self.output = tempfile.TemporaryFile()  # noqa: SIM115  (kept for the sink's lifetime)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            self.command, stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sink did not start: {self.read_output()[-2000:]}") from None
                time.sleep(0.1)

    def read_output(self):
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def messages(self):
        """smtp-sink -c's message counter ("mesg=N"), or None when the sink prints none."""
        counts = re.findall(r"mesg=(\d+)", self.read_output())
        return int(counts[-1]) if counts else None

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _raw_child(port, template, envelope_from, addresses, write_fd):
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    sent = 0
    for address, name in addresses:
        message = template.replace(b"%%ADDR%%", address.encode()).replace(b"%%NAME%%", name.encode())
        conn.sendmail(envelope_from, [address], message)
        sent += 1
    conn.quit()
    os.write(write_fd, f"{sent}\n".encode())


def raw_loop(port, template, envelope_from, addresses, processes):
    """Send one copy per (address, name) with `processes` forked processes; returns (sent, seconds, cpu seconds)."""
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    children = []
    for k in range(processes):
        pid = os.fork()
        if pid == 0:  # the child touches no database and runs no finalizer: it leaves by os._exit
            code = 0
            try:
                os.close(read_fd)
                _raw_child(port, template, envelope_from, addresses[k::processes], write_fd)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    os.close(write_fd)
    cpu = 0.0
    for pid in children:
        _, _, usage = os.wait4(pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
    seconds = time.perf_counter() - started
    with os.fdopen(read_fd) as results:
        sent = sum(int(line) for line in results.read().split())
    return sent, seconds, cpu
