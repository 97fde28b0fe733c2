"""Listed events as an iCalendar feed per newsletter."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from icalendar import Calendar

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db


def test_events_feed_lists_each_event_with_date_venue_and_link(client):
    call_command("import_seeds", str(SEEDS / "000_fb21c1f99a61b037.txt"), stdout=StringIO())
    response = client.get("/ssrg-news/events.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [(str(e["summary"])[:30], e["dtstart"].dt.isoformat(), str(e["location"])) for e in events] == [
        ("Making the Equality Framework ", "2010-10-21", "Herefordshire Racecourse, Hereford, HR4 9QU"),
        ("New Directions in Social Care ", "2010-11-30", "The Banqueting Suite, Council House, Birmingham"),
    ]
    assert "Fee: SSRG Members: £95; Others £155" in str(events[1]["description"])
    assert str(events[1]["url"]).startswith("http://127.0.0.1:8000/ssrg-news/")


def test_drafts_events_stay_out_of_the_feed(client, make_issue, newsletter):
    make_issue(
        "Draft",
        status="draft",
        sections=[{"heading": "Secret event", "kind": "event", "event_date": "2030-01-01", "venue": "Hall"}],
    )
    response = client.get(f"/{newsletter.slug}/events.ics")
    assert b"Secret event" not in response.content


def test_unknown_newsletter_has_no_calendar(client):
    assert client.get("/nope/events.ics").status_code == 404
