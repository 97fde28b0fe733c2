"""What an issue page tells search engines and link previews: its description, Open Graph and Twitter card tags,
and JSON-LD (schema.org) — a `NewsArticle` for the issue and an `Event` for each event section with a date and a
place (Google's Event result needs both; an event without either is not marked up).

Everything comes from the sections the page already prepared: no query of its own. The JSON is escaped for a
<script> element (`<`, `>` and `&` as \\u escapes), so no text an editor wrote can end the element early.
"""

import datetime
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.safestring import mark_safe

from newsletter.archive.feeds import published_at
from newsletter.archive.plain import plain_text

DESCRIPTION_CHARS = 200
LONDON = ZoneInfo(settings.TIME_ZONE)
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def description(issue):
    """The preheader (the line an inbox shows under the subject); else the intro, shortened."""
    return " ".join(issue.preheader.split()) or plain_text(issue.intro_html, limit=DESCRIPTION_CHARS, paragraphs=False)


def modified_at(issue):
    """When the page last changed, as the feeds say: an imported issue nobody edited when it was published."""
    published = published_at(issue)
    if issue.status == issue.Status.IMPORTED and not issue.edited_in_admin:
        return published
    return max(issue.updated_at, published)


def page_meta(issue, sections):
    """{description, url, published, modified, json_ld} for the issue page's <head>."""
    url = f"{settings.SITE_URL}{issue.get_absolute_url()}"
    newsletter = issue.newsletter
    text = description(issue)
    published, modified = published_at(issue), modified_at(issue)
    publisher = {
        "@type": "Organization",
        "name": newsletter.name,
        "url": f"{settings.SITE_URL}{newsletter.get_absolute_url()}",
    }
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": issue.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": published.isoformat(),
        "dateModified": modified.isoformat(),
        "author": {**publisher, "name": " ".join(newsletter.sender_name.split()) or newsletter.name},
        "publisher": publisher,
        "isAccessibleForFree": issue.visibility != issue.Visibility.SUBSCRIBERS,
    }
    if text:
        article["description"] = text
    events = [_event(section, url, issue.title) for section in _event_sections(sections)]
    data = json.dumps([article, *events], ensure_ascii=False, separators=(",", ":"))
    return {
        "description": text,
        "url": url,
        "published": published.isoformat(),
        "modified": modified.isoformat(),
        "json_ld": mark_safe(data.translate(_SCRIPT_ESCAPES)),
    }


def _event_sections(sections):
    for section in sections:
        for part in (section, *getattr(section, "ordered_items", ())):
            if part.is_event and part.event_date and part.venue.strip():
                yield part


def _event(section, page_url, issue_title):
    if section.event_time:
        start = datetime.datetime.combine(section.event_date, section.event_time, tzinfo=LONDON).isoformat()
    else:
        start = section.event_date.isoformat()
    venue = " ".join(section.venue.split())
    event = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": section.heading or issue_title,
        "startDate": start,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {"@type": "Place", "name": venue, "address": venue},
        "url": f"{page_url}#{section.anchor}",
    }
    if text := plain_text(section.body_html, limit=DESCRIPTION_CHARS, paragraphs=False):
        event["description"] = text
    return event
