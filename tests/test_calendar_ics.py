"""Issue 11: event UIDs from SITE_URL's host, whatever host the feed is fetched by; descriptions in plain
text with the URLs kept; checked with the icalendar library."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from icalendar import Calendar

from newsletter.models import Section

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db


@pytest.fixture
def ssrg_events():
    call_command("import_seeds", str(SEEDS / "000_fb21c1f99a61b037.txt"), stdout=StringIO())


def events(client, host="127.0.0.1"):
    cache.clear()
    response = client.get("/ssrg-news/events.ics", HTTP_HOST=host)
    assert response.status_code == 200
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_uids_come_from_site_url_not_the_request_host(client, settings, ssrg_events):
    settings.SITE_URL = "https://news.example.org"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    ids = [section.pk for section in Section.objects.filter(kind="event").order_by("event_date")]

    for host in ("127.0.0.1", "localhost"):
        assert [str(e["uid"]) for e in events(client, host)] == [f"section-{pk}@news.example.org" for pk in ids]


def test_descriptions_are_plain_text_with_their_urls(client, ssrg_events):
    found = events(client)
    first, second = (str(e["description"]) for e in found)

    for description in (first, second):
        assert "](" not in description and "<http" not in description and "\\" not in description
    assert "Booking: A booking form is available on the SSRG website www.ssr.org.uk (http://www.ssr.org.uk)" in second
    assert "Fee: SSRG Members: £95; Others £155" in second
    assert "- Andrew Mellon, DfE" in second  # lists stay lists
    assert first.startswith("Local Government Improvement and Development (LGI&D) is organising a series")
    assert str(found[0]["url"]) in first  # the link back to the section
    assert first.split("\n\n")[-1] == str(found[0]["url"])


def test_a_long_description_is_cut_at_a_word(client, make_issue, newsletter):
    body = "Word " * 300 + "see <http://example.org/programme>"
    make_issue(
        "Events",
        sections=[{"heading": "Fair", "kind": "event", "event_date": "2030-01-01", "body_markdown": body}],
    )

    cache.clear()
    (event,) = Calendar.from_ical(client.get(f"/{newsletter.slug}/events.ics").content).walk("VEVENT")
    body_text = str(event["description"]).split("\n\n")[0]

    assert body_text.endswith("Word…") and len(body_text) <= 500
