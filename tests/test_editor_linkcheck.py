"""The link check, against a real HTTP server on loopback."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.editor import linkcheck
from newsletter.editor.tasks import check_issue_links


class Handler(BaseHTTPRequestHandler):
    def _answer(self, with_body):
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/no-head" and self.command == "HEAD":
            self.send_response(405)
        elif self.path == "/missing":
            self.send_response(404)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if with_body:
            self.wfile.write(b"ok")

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_it_tells_working_links_from_broken_ones(site):
    results = linkcheck.check_urls([f"{site}/ok", f"{site}/missing", f"{site}/no-head", "http://127.0.0.1:9/closed"])
    assert {url.rsplit("/", 1)[1]: r.broken for url, r in results.items()} == {
        "ok": False,
        "missing": True,
        "no-head": False,  # refused HEAD, answered GET
        "closed": True,
    }
    assert results[f"{site}/missing"].status == 404


def test_slow_links_time_out_and_the_deadline_bounds_the_whole_check(site):
    started = time.monotonic()
    results = linkcheck.check_urls([f"{site}/slow", f"{site}/ok"], timeout=0.5, deadline=5)
    assert time.monotonic() - started < 3
    assert results[f"{site}/slow"].broken and not results[f"{site}/ok"].broken


@pytest.mark.django_db
def test_checking_an_issue_marks_its_broken_links(site, make_issue):
    issue = make_issue(
        "Links",
        status="draft",
        sections=[
            {
                "heading": "Reading",
                "body_markdown": f"See <{site}/ok> and <{site}/missing>.",
                "links": [f"{site}/missing"],
            }
        ],
    )
    broken = check_issue_links(issue.pk)
    assert broken == 1
    link = issue.sections.get().links.get()
    assert link.is_broken and link.check_status == 404
    assert linkcheck.last_results(issue)["results"][f"{site}/ok"] == [200, ""]
