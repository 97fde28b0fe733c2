"""A feed server on loopback for the inbox's feed tests: each path answers as the test says, and every request
is recorded with its headers (to see the conditional GET and the User-Agent)."""

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclasses.dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = ""  # answered, and a request with If-None-Match equal to it gets 304
    last_modified: str = ""
    location: str = ""  # a redirect
    stream_bytes: int = 0  # send this many bytes with no Content-Length (a huge response)


class FeedServer:
    def __init__(self):
        self.routes = {}
        self.requests = []  # (path, headers)
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def serve(self, path, body=b"", **options):
        self.routes[path] = Route(body=body.encode() if isinstance(body, str) else body, **options)
        return self.url(path)

    def requests_to(self, path):
        return [headers for p, headers in self.requests if p == path]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.location:
                    self.send_response(route.status if route.status in (301, 302, 307, 308) else 302)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.stream_bytes:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"<!-- " + b"x" * 65_000 + b" -->"
                    sent = 0
                    try:
                        while sent < route.stream_bytes:
                            self.wfile.write(chunk)
                            sent += len(chunk)
                    except OSError:
                        pass  # the client stopped reading: refused, as it should be
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed_server(settings):
    """A loopback HTTP server for feeds; FEEDS_ALLOW_PRIVATE is on while it runs (tests that check the refusal
    turn it off)."""
    settings.FEEDS_ALLOW_PRIVATE = True
    server = FeedServer()
    yield server
    server.close()


def rss(*items, title="Partner news"):
    """An RSS 2.0 document; each item a dict with title, link, guid, description, pubDate (any may be left out)."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://partner.example.org/</link><description>x</description>"
        + "".join(parts)
        + "</channel></rss>"
    )


def atom(*entries, title="Research blog"):
    parts = []
    for e in entries:
        link = f'<link href="{e["link"]}"/>' if "link" in e else ""
        parts.append(
            f"<entry><id>{e['id']}</id><title>{e.get('title', '')}</title>{link}"
            f"<updated>{e.get('updated', '2026-11-28T09:00:00Z')}</updated>"
            f'<summary type="html">{e.get("summary", "")}</summary></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:blog</id><updated>2026-11-28T09:00:00Z</updated>" + "".join(parts) + "</feed>"
    )
