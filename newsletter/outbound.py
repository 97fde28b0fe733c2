"""Requests the site makes to other servers (the link check today; feeds and webhooks later) never reach
the site's own network: loopback, private, link-local, reserved and multicast addresses are refused,
unless a setting for that job allows them (tests run their servers on loopback).

A leaf: it imports nothing of the app. The check resolves the host and refuses when any address it
resolves to is not global, and it is applied again to every redirect, so a public URL cannot bounce
a request inside. (A DNS answer that changes between the check and the connection is not covered.)
"""

import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit


class Refused(ValueError):
    """The URL points at an address the site must not reach."""


def check(url, allow_private=False):
    """Raise Refused unless the URL is http(s) to a host whose every address is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url[:200]}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise Refused(f"{parts.hostname} is an internal address ({address}): not checked")


def opener(allow_private=False, follow_redirects=True):
    """A urllib opener whose redirects are checked like the first URL.

    With follow_redirects=False a 3xx answer is raised as urllib.error.HTTPError with its code and
    Location, for requests a redirect would change (urllib turns a redirected POST into a GET).
    """

    class CheckedRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if not follow_redirects:
                return None
            check(newurl, allow_private)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(CheckedRedirects)
