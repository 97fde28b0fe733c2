"""Fetching feeds into the inbox, politely: a conditional GET (ETag / Last-Modified) with a timeout, a size
limit and a User-Agent naming the product, through newsletter.outbound (no internal addresses unless
FEEDS_ALLOW_PRIVATE). Each unseen entry (by GUID, else link) that passes the source's keyword filter
becomes a Contribution "from feed X"; the new items and the source's state are written in one transaction.
A source failing FEEDS_MAX_FAILURES times in a row is paused with its last error; it never writes items
while failing.
"""

import dataclasses
import io
import json
import logging
import urllib.error
import urllib.request

import feedparser
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter import events, outbound
from newsletter.inbox.entries import entry_fields
from newsletter.models import Contribution, FeedSource

logger = logging.getLogger(__name__)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


class FeedError(Exception):
    """Why a fetch failed, in words for the editor (shown as the source's last error)."""


@dataclasses.dataclass
class FetchResult:
    source: FeedSource
    new: int = 0
    seen: int = 0  # entries already in the inbox
    filtered: int = 0  # left out by the keyword filter, too old, or past the per-fetch limit
    not_modified: bool = False
    error: str = ""
    paused: bool = False

    def line(self):
        if self.error:
            return f"{self.source.name}: failed: {self.error}" + (" (paused)" if self.paused else "")
        if self.not_modified:
            return f"{self.source.name}: not modified"
        return f"{self.source.name}: {self.new} new, {self.seen} already seen, {self.filtered} left out"


def user_agent():
    return f"{settings.FEEDS_USER_AGENT} (+{settings.SITE_URL})"


def download(source):
    """(body bytes or None when not modified, ETag, Last-Modified). Raises FeedError saying what went wrong."""
    allow = settings.FEEDS_ALLOW_PRIVATE
    limit = settings.FEEDS_MAX_BYTES
    headers = {"User-Agent": user_agent(), "Accept": ACCEPT, "Accept-Encoding": "identity"}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    try:
        outbound.check(source.url, allow)
        request = urllib.request.Request(source.url, headers=headers)
        with outbound.opener(allow).open(request, timeout=settings.FEEDS_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise FeedError(f"The feed is larger than the limit of {limit:,} bytes ({int(length):,}): refused.")
            body = response.read(limit + 1)
            if len(body) > limit:
                raise FeedError(f"The feed is larger than the limit of {limit:,} bytes: refused.")
            return body, response.headers.get("ETag", ""), response.headers.get("Last-Modified", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None, source.etag, source.last_modified
        raise FeedError(f"The server answered HTTP {exc.code}.") from exc
    except outbound.Refused as exc:
        raise FeedError(f"Refused: {exc}.") from exc
    except TimeoutError as exc:
        raise FeedError(f"No answer within {settings.FEEDS_TIMEOUT:g} seconds.") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FeedError(f"Could not fetch the feed: {reason}.") from exc


def parse(body):
    """feedparser's result for the body; FeedError when it is not a feed at all."""
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {str(problem)[:200]}" if problem else ""
        raise FeedError(f"This is not an RSS or Atom feed{detail}.")
    return parsed


def wanted_entries(source, parsed, result, now):
    """The entries to store: with an id or link, passing the keyword filter, not too old; the newest first,
    at most FEEDS_MAX_ITEMS_PER_FETCH."""
    oldest = now - settings.FEEDS_MAX_AGE
    rows = []
    for entry in parsed.entries:
        fields = entry_fields(entry)
        if fields is None:
            result.filtered += 1
            continue
        plain = fields.pop("plain")
        if not source.wants(plain) or (fields["published_at"] and fields["published_at"] < oldest):
            result.filtered += 1
            continue
        rows.append(fields)
    unique = {}
    for fields in rows:
        unique.setdefault(fields["entry_key"], fields)
    rows = sorted(unique.values(), key=lambda f: f["published_at"] or now, reverse=True)
    result.filtered += max(0, len(rows) - settings.FEEDS_MAX_ITEMS_PER_FETCH)
    return rows[: settings.FEEDS_MAX_ITEMS_PER_FETCH]


def store(source, rows, result, now, etag, last_modified):
    """One transaction: the unseen entries become contributions, the source records the fetch."""
    with transaction.atomic():
        keys = [row["entry_key"] for row in rows]
        seen = set(Contribution.objects.filter(feed=source, entry_key__in=keys).values_list("entry_key", flat=True))
        for row in rows:
            if row["entry_key"] in seen:
                result.seen += 1
                continue
            contribution = Contribution(
                newsletter_id=source.newsletter_id,
                origin=Contribution.Origin.FEED,
                feed=source,
                source_name=source.name,
                suggested_heading=source.section_heading or source.name,
                suggested_topic_id=source.topic_id,
                **row,
            )
            try:
                with transaction.atomic():  # a concurrent fetch stored it first: the constraint says so
                    contribution.save()
            except IntegrityError:
                result.seen += 1
                continue
            result.new += 1
            events.contribution_received.send(sender=Contribution, contribution=contribution)
        FeedSource.objects.filter(pk=source.pk).update(
            last_fetched_at=now,
            next_fetch_at=source.next_after(now),
            etag=(etag or "")[:500],
            last_modified=(last_modified or "")[:100],
            failures=0,
            last_error="",
        )


def record_failure(source, result, now):
    failures = source.failures + 1
    paused = failures >= settings.FEEDS_MAX_FAILURES
    error = result.error
    if paused:
        error = f"{error} Paused after {failures} failures in a row: fix the feed, then tick Enabled."
    FeedSource.objects.filter(pk=source.pk).update(
        last_fetched_at=now,
        next_fetch_at=source.next_after(now, failures),
        failures=failures,
        last_error=error[:500],
        enabled=not paused and source.enabled,
    )
    result.paused = paused
    logger.warning(json.dumps({"event": "feed_failed", "source": source.pk, "error": result.error[:200]}))


def fetch(source, now=None):
    """Fetch one source now (whether due or not) and store what is new. Returns a FetchResult."""
    now = now or timezone.now()
    result = FetchResult(source)
    try:
        body, etag, last_modified = download(source)
        if body is None:
            result.not_modified = True
            store(source, [], result, now, etag, last_modified)
            return result
        rows = wanted_entries(source, parse(body), result, now)
    except FeedError as exc:
        result.error = str(exc)
        record_failure(source, result, now)
        return result
    store(source, rows, result, now, etag, last_modified)
    return result


def claim(source, now):
    """Take a due source for this run (a concurrent run then skips it). True when this run got it."""
    claimed = FeedSource.objects.filter(pk=source.pk, enabled=True, next_fetch_at=source.next_fetch_at)
    return bool(claimed.update(next_fetch_at=source.next_after(now)))


def fetch_due(now=None, progress=None):
    """Fetch every enabled source whose interval has passed; `progress(result)` after each. Returns the results."""
    now = now or timezone.now()
    results = []
    for source in FeedSource.objects.due(now).select_related("newsletter").order_by("next_fetch_at", "pk"):
        if not claim(source, now):
            continue
        result = fetch(source, now)
        results.append(result)
        if progress:
            progress(result)
    return results
