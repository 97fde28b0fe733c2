"""The link check, against a real HTTP server on loopback."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.editor import linkcheck
from newsletter.editor.tasks import check_issue_links


class Handler(BaseHTTPRequestHandler):
    release = threading.Event()  # /slow answers only when the test is over (or after a minute)

    def _answer(self, with_body):
        if self.path == "/slow":
            self.release.wait(60)
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
    Handler.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    Handler.release.set()
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


def test_a_slow_link_times_out_instead_of_holding_up_the_check(site):
    started = time.monotonic()
    results = linkcheck.check_urls([f"{site}/slow", f"{site}/ok"], timeout=2, deadline=30)
    elapsed = time.monotonic() - started

    # /slow would answer only after a minute: the check gives up at its 2 s timeout. The bound sits far
    # from both (10 times the timeout, a third of the wait), so a busy machine cannot push it across.
    assert elapsed < 20
    slow = results[f"{site}/slow"]
    assert slow.broken and slow.status is None and "timed out" in slow.error
    assert not results[f"{site}/ok"].broken


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
