"""Issue 11: every Atom feed names its author, dates imported posts by the newsletter's own dates (stable
across fetches and re-imports) and summarises every entry; checked with feedparser."""

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import feedparser
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from newsletter.models import Issue, Newsletter

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def import_seeds(*args):
    call_command("import_seeds", *args, stdout=StringIO())


def feed(client, slug):
    cache.clear()  # a fresh page, not one the page cache kept
    parsed = feedparser.parse(client.get(reverse("archive:feed", args=[slug])).content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def published(parsed):
    return {entry.title: entry.published for entry in parsed.entries}


def at_nine_in_london(day):
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=LONDON)


def when(entry_date):
    return datetime.datetime.fromisoformat(entry_date)


@pytest.fixture
def seeded():
    import_seeds()


def test_every_feed_names_its_author(client, seeded):
    for newsletter in Newsletter.objects.all():
        parsed = feed(client, newsletter.slug)
        assert parsed.feed.author == newsletter.name  # no sender name set: the newsletter's name
        assert parsed.entries and all(entry.author == newsletter.name for entry in parsed.entries)


def test_the_author_is_the_sender_when_there_is_one(client, newsletter, make_issue):
    newsletter.sender_name = "SSRG  Editorial Team"
    newsletter.save()
    make_issue("One")

    parsed = feed(client, newsletter.slug)

    assert parsed.feed.author_detail.name == "SSRG Editorial Team"
    assert b"<author><name>SSRG Editorial Team</name></author>" in client.get(f"/{newsletter.slug}/feed/").content


def test_an_undated_post_is_published_on_the_nearest_dated_post_of_its_file(client, seeded):
    parsed = feed(client, "community-budgets")
    dates = {title: when(value) for title, value in published(parsed).items()}

    assert dates["Weekly update 24.05.11"] == at_nine_in_london(datetime.date(2011, 5, 24))
    assert dates["Words to live by"] == at_nine_in_london(datetime.date(2011, 5, 24))  # post 1, next to post 2
    assert dates["Total Information"] == at_nine_in_london(datetime.date(2011, 5, 10))  # between 10.05 and 12.4
    assert dates["Community Budgets website goes live"] == at_nine_in_london(datetime.date(2011, 4, 6))
    imported_on = Issue.objects.get(title="Words to live by").created_at
    assert all(day.date() != imported_on.date() for day in dates.values())
    for entry in parsed.entries:
        assert entry.updated == entry.published  # imported and never edited: updated when published


def test_published_is_stable_across_fetches_and_re_imports(client, seeded):
    slugs = list(Newsletter.objects.values_list("slug", flat=True))
    first = {slug: published(feed(client, slug)) for slug in slugs}

    assert {slug: published(feed(client, slug)) for slug in slugs} == first
    import_seeds()
    import_seeds("--update")
    assert {slug: published(feed(client, slug)) for slug in slugs} == first

    # A new database: every post the file dates, directly or by its neighbours, keeps its date.
    Issue.objects.all().delete()
    import_seeds()
    again = {slug: published(feed(client, slug)) for slug in slugs}
    assert again["community-budgets"] == first["community-budgets"]
    assert again["staffordshire-chief-executive"] == first["staffordshire-chief-executive"]
    assert again["adcs-eastern-region"] == first["adcs-eastern-region"]


def test_a_file_without_any_date_falls_back_to_when_the_issue_was_created(client, seeded):
    issue = Issue.objects.get(source_file="000_fb21c1f99a61b037.txt")

    (entry,) = feed(client, "ssrg-news").entries

    assert when(entry.published) == issue.created_at


def test_every_entry_has_a_summary_and_no_empty_contents_list(client, seeded):
    for newsletter in Newsletter.objects.all():
        for entry in feed(client, newsletter.slug).entries:
            assert entry.summary.strip(), entry.title
            if "In this issue:" in entry.summary:
                assert "<li>" in entry.summary, entry.title


def test_a_post_without_intro_is_summarised_by_its_first_sections_text(client, seeded):
    entries = {entry.title: entry for entry in feed(client, "community-budgets").entries}

    summary = entries["Words to live by"].summary
    assert summary.startswith("<p>Tiptoeing back to the blog to put some thoughts down on pixel-paper. If you")
    assert summary.endswith("…</p>") and len(summary) < 320
    assert "In this issue" not in summary  # no heading to list

    ofsted = {e.title: e for e in feed(client, "staffordshire-chief-executive").entries}
    assert len(ofsted["Digitisation, and the Children’s Services Ofsted"].summary) > 100


def test_a_summary_keeps_link_addresses_readable(client, make_issue, newsletter):
    make_issue(
        "Links",
        sections=[{"heading": "", "body_markdown": "See [www.ssr.org.uk](http://www.ssr.org.uk) or <a@b.org>."}],
    )

    (entry,) = feed(client, newsletter.slug).entries

    assert entry.summary == "<p>See www.ssr.org.uk (http://www.ssr.org.uk) or a@b.org.</p>"
