"""Check an issue's links before sending: HEAD, then GET when HEAD is refused; bounded in time and concurrency.

Never run on import (old seeds hold many dead links and nobody asked). Results
go onto the Link rows and, for links written only in the text, into the cache,
where the pre-send check reads them.
"""

import html
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from newsletter import outbound
from newsletter.models import Link

HREF = re.compile(r'href="(https?://[^"]+)"')
USER_AGENT = "NewsletterLinkCheck/1.0"
RESULTS_TTL = 7 * 24 * 3600


@dataclass
class LinkResult:
    url: str
    status: int | None
    error: str = ""

    @property
    def broken(self):
        return bool(self.error) or self.status is None or self.status >= 400


def _request(url, method, timeout):
    allow_private = settings.LINKCHECK_ALLOW_PRIVATE
    outbound.check(url, allow_private)
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    try:
        with outbound.opener(allow_private).open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def check_url(url, timeout=5.0) -> LinkResult:
    try:
        status = _request(url, "HEAD", timeout)
        if status in (403, 405, 501) or status >= 500:
            # Many servers refuse HEAD; ask again the ordinary way.
            status = _request(url, "GET", timeout)
        return LinkResult(url, status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return LinkResult(url, None, str(reason)[:300] or exc.__class__.__name__)


def check_urls(urls, *, timeout=5.0, deadline=60.0, concurrency=8) -> dict[str, LinkResult]:
    """Each URL once; those not checked before the deadline are reported as such."""
    urls = list(dict.fromkeys(urls))
    results, started = {}, time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(check_url, url, timeout): url for url in urls}
        try:
            for future in as_completed(futures, timeout=deadline):
                result = future.result()
                results[result.url] = result
        except TimeoutError:
            pass
        for future in futures:
            future.cancel()
    for url in urls:
        if url not in results:
            elapsed = int(time.monotonic() - started)
            results[url] = LinkResult(url, None, f"not checked: the check stopped after {elapsed} s")
    return results


def hrefs(html_text):
    """The http(s) links in sanitised HTML, as URLs (the attribute's `&amp;` back to `&`)."""
    return [html.unescape(url) for url in HREF.findall(html_text)]


def issue_urls(issue):
    """Every http(s) URL in the issue: its Link rows and the links written in the text."""
    urls = [link.url for link in Link.objects.filter(section__issue=issue) if link.url.startswith("http")]
    for section in issue.sections.all():
        urls += hrefs(section.body_html)
    urls += hrefs(issue.intro_html) + hrefs(issue.sign_off_html)
    return list(dict.fromkeys(urls))


def _cache_key(issue_id):
    return f"linkcheck:{issue_id}"


def check_issue_links(issue, **limits) -> dict[str, LinkResult]:
    results = check_urls(issue_urls(issue), **limits)
    now = timezone.now()
    for link in Link.objects.filter(section__issue=issue):
        result = results.get(link.url)
        if result:
            link.check_status, link.check_error, link.checked_at = result.status, result.error, now
            link.save(update_fields=["check_status", "check_error", "checked_at"])
    cache.set(
        _cache_key(issue.pk),
        {"checked_at": now.isoformat(), "results": {u: [r.status, r.error] for u, r in results.items()}},
        RESULTS_TTL,
    )
    return results


def last_results(issue) -> dict | None:
    """{"checked_at": iso, "results": {url: [status, error]}} from the last check, or None."""
    return cache.get(_cache_key(issue.pk))
