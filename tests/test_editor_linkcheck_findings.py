"""What the pre-send check says after a link check: every broken link, wherever it is written, by its real URL."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter.editor import linkcheck, presend


class Handler(BaseHTTPRequestHandler):
    """404 for /missing with exactly the query ?a=1&b=2 (so a link asked as "&amp;b=2" gets a 400), else 200."""

    def do_HEAD(self):
        if self.path.startswith("/missing"):
            self.send_response(404 if self.path == "/missing?a=1&b=2" else 400)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def link_findings(issue):
    return [(f.check, f.message, f.section) for f in presend.run(issue) if f.check == "links"]


def test_a_broken_link_in_the_introduction_is_reported_with_its_ampersands(site, make_issue):
    issue = make_issue("Draft", status="draft", intro=f"See [the list]({site}/missing?a=1&b=2).")

    results = linkcheck.check_issue_links(issue, timeout=2, deadline=10)

    assert list(results) == [f"{site}/missing?a=1&b=2"]  # asked as written, not as "&amp;b=2"
    assert link_findings(issue) == [("links", f"Broken link {site}/missing?a=1&b=2 (HTTP 404).", "Introduction")]


def test_an_issue_without_links_is_not_told_to_check_them_once_checked(make_issue):
    issue = make_issue("Draft", status="draft", sections=[{"heading": "News", "body_markdown": "No links here."}])
    assert [message for _, message, _ in link_findings(issue)] == [
        "Links have not been checked yet: run the link check."
    ]

    linkcheck.check_issue_links(issue)

    assert link_findings(issue) == []
