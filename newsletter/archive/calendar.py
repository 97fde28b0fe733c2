"""iCalendar feed of the events in a newsletter's listed issues (published and public: Issue.listed_q()), so
readers can add them to their calendars.

An event's UID is `section-<id>@<SITE_URL's host>`, the same whichever host name the feed was fetched by,
so a calendar that subscribed once never sees duplicates. Its DESCRIPTION is plain text (the body as the
plain-text email writes it: links as "text (URL)"), then the fee, booking and a link to the section.
"""

import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from icalendar import Calendar, Event

from newsletter.archive.plain import plain_text
from newsletter.models import Issue, Newsletter, Section

LONDON = ZoneInfo(settings.TIME_ZONE)
DESCRIPTION_LENGTH = 500


def uid_host():
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _event(section, host):
    event = Event()
    event.add("uid", f"section-{section.pk}@{host}")
    event.add("summary", section.heading or section.issue.title)
    if section.event_time:
        start = datetime.datetime.combine(section.event_date, section.event_time, tzinfo=LONDON)
        event.add("dtstart", start)
        event.add("dtend", start + datetime.timedelta(hours=1))
    else:
        event.add("dtstart", section.event_date)
        event.add("dtend", section.event_date + datetime.timedelta(days=1))
    if section.venue:
        event.add("location", section.venue)
    url = f"{settings.SITE_URL}{section.issue.get_absolute_url()}#{section.anchor}"
    details = [plain_text(section.body_html, limit=DESCRIPTION_LENGTH)]
    if section.fee:
        details.append(f"{gettext('Fee')}: {section.fee}")
    if section.booking:
        details.append(f"{gettext('Booking')}: {plain_text(section.booking_html, paragraphs=False)}")
    details.append(url)
    event.add("description", "\n\n".join(d for d in details if d))
    event.add("url", url)
    event.add("dtstamp", section.issue.updated_at)
    return event


def newsletter_events(request, slug):
    newsletter = get_object_or_404(Newsletter, slug=slug)
    sections = (
        Section.objects.filter(
            Issue.listed_q("issue__"),
            issue__newsletter=newsletter,
            kind=Section.Kind.EVENT,
            event_date__isnull=False,
        )
        .select_related("issue__newsletter")
        .order_by("event_date", "event_time", "pk")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Newsletter//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", gettext("%(name)s: events") % {"name": newsletter.name})
    host = uid_host()
    for section in sections:
        calendar.add_component(_event(section, host))
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{newsletter.slug}-events.ics"'
    return response
