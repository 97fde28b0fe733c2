"""Untrusted input → the fields of a Contribution: a feed entry (feedparser's dict) or a mail message.

Plain functions with no database: every text is reduced to plain text (newsletter.markup.html_to_text),
shortened, and stored as Markdown that shows just that text (text_as_markdown), so nothing a feed or a
sender writes can become markup, a script or a link other than the one http(s) link kept as the item's.
"""

import calendar
import datetime
import hashlib
import re
from email.utils import getaddresses, parsedate_to_datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from newsletter.addresses import canonical_address
from newsletter.markup import html_to_text, one_line, shorten, text_as_markdown, tidy_text

TITLE_CHARS = 200
FEED_SUMMARY_CHARS = 600  # a feed item's summary, shortened for an editor to skim
MAIL_SUMMARY_CHARS = 2000
KEY_CHARS = 2000  # a GUID longer than this is cut before hashing
URL_RE = re.compile(r"""https?://[^\s<>"'()\[\]{}]{1,1000}""", re.IGNORECASE)
HREF_RE = re.compile(r"""href\s*=\s*["']?(https?://[^"'\s<>]{1,1000})""", re.IGNORECASE)
_url_ok = URLValidator(schemes=["http", "https"])


def http_url(value):
    """The value when it is an http(s) URL of at most 1,000 characters, else ""."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value or len(value) > 1000:
        return ""
    try:
        _url_ok(value)
    except ValidationError:
        return ""
    return value


def summary_markdown(text, limit):
    return text_as_markdown(shorten(text, limit))


# Feeds --------------------------------------------------------------------------------------


def entry_key(entry):
    """The entry's identity: its GUID, else its link, hashed (64 hex characters); "" when it has neither."""
    raw = _text(entry.get("id")) or _text(entry.get("link"))
    raw = raw.strip()[:KEY_CHARS]
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest() if raw else ""


def entry_date(entry):
    """The entry's published (else updated) time, aware, or None."""
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            try:
                return datetime.datetime.fromtimestamp(calendar.timegm(parsed), tz=datetime.UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                continue
    return None


def _text(value):
    return value if isinstance(value, str) else ""


def entry_fields(entry):
    """A feedparser entry → Contribution fields (title, url, summary, published_at, entry_key), or None when the
    entry has neither an id nor a link (nothing to recognise it by next time)."""
    key = entry_key(entry)
    if not key:
        return None
    link = http_url(_text(entry.get("link")))
    title = one_line(html_to_text(_text(entry.get("title"))), TITLE_CHARS)
    content = entry.get("summary")
    if not _text(content):
        contents = entry.get("content")
        content = (
            contents[0].get("value")
            if isinstance(contents, list) and contents and isinstance(contents[0], dict)
            else ""
        )
    text = html_to_text(_text(content))
    return {
        "title": title or one_line(text, 80) or link[:TITLE_CHARS] or "(untitled)",
        "url": link,
        "summary": summary_markdown(text, FEED_SUMMARY_CHARS),
        "plain": f"{title}\n{text}",  # what the keyword filter reads; not stored
        "published_at": entry_date(entry),
        "entry_key": key,
    }


# Mail ---------------------------------------------------------------------------------------


def mail_body(message):
    """The message's text (its text/plain part, else its HTML as text) and the first http(s) link in it.
    Attachments and every other part are ignored."""
    plain, html = None, None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        try:
            content = part.get_content()
        except (LookupError, KeyError, ValueError, AssertionError):
            payload = part.get_payload(decode=True) or b""
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
        if not isinstance(content, str):
            continue
        if kind == "text/plain" and plain is None:
            plain = content
        elif kind == "text/html" and html is None:
            html = content
    if plain is not None and plain.strip():
        text = tidy_text(plain)
        match = URL_RE.search(text)
        return text, http_url(match.group(0).rstrip(".,;:!?")) if match else ""
    if html is not None:
        href = HREF_RE.search(html)
        text = html_to_text(html)
        match = href or URL_RE.search(text)
        return text, http_url(match.group(1) if href else match.group(0).rstrip(".,;:!?")) if match else ""
    return "", ""


def sender(message):
    """(canonical address, display name) of the From header; ("", "") when it has none."""
    try:
        pairs = getaddresses([str(message.get("From", ""))])
    except (TypeError, ValueError, IndexError):
        return "", ""
    name, address = pairs[0] if pairs else ("", "")
    address = canonical_address(address)
    if "@" not in address or len(address) > 254:
        return "", ""
    return address, one_line(name, 200)


def mail_date(message):
    try:
        value = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value and value.tzinfo else None


def mail_fields(message):
    """A mail message → Contribution fields: subject → title, its text → summary, first link → url, sender."""
    try:
        subject = str(message.get("Subject", "") or "")
    except (TypeError, ValueError, LookupError):
        subject = ""
    text, link = mail_body(message)
    address, name = sender(message)
    title = one_line(html_to_text(subject), TITLE_CHARS)
    return {
        "title": title or one_line(text, 80) or "(no subject)",
        "url": link,
        "summary": summary_markdown(text, MAIL_SUMMARY_CHARS),
        "contact_email": address,
        "contact_name": name,
        "published_at": mail_date(message),
    }
