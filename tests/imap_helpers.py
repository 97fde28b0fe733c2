"""A small IMAP4rev1 server on loopback, enough for Python's imaplib as newsletter.mail.inbound uses it (LOGIN,
SELECT, SEARCH UNSEEN, FETCH RFC822.SIZE / RFC822, STORE +FLAGS \\Seen, LOGOUT); it records every command."""

import re
import socketserver
import threading

import pytest


class Mailbox:
    def __init__(self):
        self.messages = []  # [bytes, seen]
        self.commands = []

    def add(self, raw):
        self.messages.append([raw if isinstance(raw, bytes) else raw.encode(), False])


class Handler(socketserver.StreamRequestHandler):
    def send(self, data):
        self.wfile.write(data if isinstance(data, bytes) else data.encode())

    def handle(self):
        box = self.server.box
        self.send("* OK IMAP4rev1 test server ready\r\n")
        for line in self.rfile:
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            box.commands.append(f"{command} {args}".strip())
            if command == "CAPABILITY":
                self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")
            elif command == "LOGIN":
                self.send(f"{tag} OK LOGIN completed\r\n")
            elif command == "SELECT":
                self.send(f"* {len(box.messages)} EXISTS\r\n{tag} OK [READ-WRITE] SELECT completed\r\n")
            elif command == "SEARCH":
                unseen = " ".join(str(n) for n, (_, seen) in enumerate(box.messages, 1) if not seen)
                self.send(f"* SEARCH {unseen}\r\n".replace(" \r\n", "\r\n") + f"{tag} OK SEARCH completed\r\n")
            elif command == "FETCH":
                number, _, what = args.partition(" ")
                raw = box.messages[int(number) - 1][0]
                if "RFC822.SIZE" in what:
                    self.send(f"* {number} FETCH (RFC822.SIZE {len(raw)})\r\n{tag} OK FETCH completed\r\n")
                else:
                    self.send(f"* {number} FETCH (RFC822 {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                    self.send(f"{tag} OK FETCH completed\r\n")
            elif command == "STORE":
                number = int(re.match(r"\d+", args).group(0))
                box.messages[number - 1][1] = True
                self.send(f"* {number} FETCH (FLAGS (\\Seen))\r\n{tag} OK STORE completed\r\n")
            elif command == "LOGOUT":
                self.send(f"* BYE\r\n{tag} OK LOGOUT completed\r\n")
                return
            else:
                self.send(f"{tag} BAD unknown command\r\n")


@pytest.fixture
def imap_server():
    """(url, mailbox): imap://test:secret@127.0.0.1:<port>/INBOX and the messages it holds."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.box = Mailbox()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"imap://test:secret@127.0.0.1:{server.server_address[1]}/INBOX", server.box
    server.shutdown()
    server.server_close()
