"""Requests the site makes to other servers never reach its own network unless a setting allows it."""

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter import outbound
from newsletter.editor import linkcheck


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]/",
        "http://0.0.0.0/",
        "ftp://example.org/file",
        "file:///etc/passwd",
    ],
)
def test_internal_and_non_web_addresses_are_refused(url):
    with pytest.raises(outbound.Refused):
        outbound.check(url)


def test_a_public_address_is_allowed_and_a_private_one_only_when_the_setting_says_so():
    outbound.check("http://93.184.216.34/page")  # a literal public address: no DNS needed
    outbound.check("http://127.0.0.1:8000/", allow_private=True)


def test_a_redirect_into_the_internal_network_is_refused():
    handler = next(h for h in outbound.opener().handlers if isinstance(h, urllib.request.HTTPRedirectHandler))
    request = urllib.request.Request("http://93.184.216.34/")
    with pytest.raises(outbound.Refused):
        handler.redirect_request(request, None, 302, "Found", {}, "http://127.0.0.1:6379/")


class Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_HEAD(self):
        Counting.hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_link_check_never_requests_an_internal_address(settings):
    settings.LINKCHECK_ALLOW_PRIVATE = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = linkcheck.check_url(f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()

    assert result.broken and "internal address" in result.error
    assert Counting.hits == 0
