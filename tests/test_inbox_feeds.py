"""Feeds into the inbox, fetched from a real HTTP server on loopback: RSS and Atom, a malformed feed, a 304 with
the conditional headers sent, a redirect, a huge response, a duplicate entry, the keyword filter, pausing after
repeated failures, a private address refused without FEEDS_ALLOW_PRIVATE."""

import datetime
import threading
from email.utils import format_datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from newsletter.inbox import feeds
from newsletter.models import Contribution, FeedSource
from tests.feed_helpers import atom, rss

pytestmark = pytest.mark.django_db


def recent(days=1):
    return format_datetime(timezone.now() - datetime.timedelta(days=days))


def item(n, **extra):
    return {
        "title": f"Partner story {n}",
        "link": f"https://partner.example.org/story-{n}",
        "guid": f"urn:partner:{n}",
        "description": f"What happened in story {n}.",
        "pubDate": recent(),
        **extra,
    }


@pytest.fixture
def source(newsletter):
    def make(url, **fields):
        return FeedSource.objects.create(
            newsletter=newsletter, name=fields.pop("name", "Partner news"), url=url, **fields
        )

    return make


def test_an_rss_feed_becomes_feed_items_in_the_inbox_and_the_fetch_names_the_product(feed_server, source):
    url = feed_server.serve(
        "/rss", rss(item(1), item(2, description="<p>With <b>bold</b> &amp; <script>x()</script>more</p>"))
    )
    result = feeds.fetch(source(url))
    assert (result.new, result.error) == (2, "")
    story = Contribution.objects.get(title="Partner story 2")
    assert (story.origin, story.status, story.source_name, story.url) == (
        "feed", "new", "Partner news", "https://partner.example.org/story-2",
    )  # fmt: skip
    assert story.summary == "With bold &amp; more" and story.published_at is not None
    assert story.came_from == "Feed: Partner news"
    assert feed_server.requests_to("/rss")[0]["User-Agent"].startswith("WeeklyUpdate-Feeds/1")


def test_an_atom_feed_is_read_too(feed_server, source):
    url = feed_server.serve(
        "/atom",
        atom({"id": "tag:blog,2026:1", "title": "A new grant", "link": "https://blog.example.org/grant",
              "summary": "&lt;p&gt;Funding for &lt;em&gt;care&lt;/em&gt; research&lt;/p&gt;",
              "updated": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")}),
        content_type="application/atom+xml",
    )  # fmt: skip
    assert feeds.fetch(source(url, name="Research blog")).new == 1
    grant = Contribution.objects.get()
    assert (grant.title, grant.url, grant.summary) == (
        "A new grant",
        "https://blog.example.org/grant",
        "Funding for care research",
    )


def test_a_malformed_feed_is_a_failure_with_a_clear_error_and_writes_nothing(feed_server, source):
    url = feed_server.serve("/broken", "<html><body>Not a feed at all</body>", content_type="text/html")
    feed = source(url)
    result = feeds.fetch(feed)
    feed.refresh_from_db()
    assert "not an RSS or Atom feed" in result.error
    assert (feed.failures, feed.enabled) == (1, True) and "not an RSS or Atom feed" in feed.last_error
    assert not Contribution.objects.exists()


def test_the_second_fetch_is_conditional_and_a_304_stores_nothing_new(feed_server, source):
    stamp = "Sat, 28 Nov 2026 09:00:00 GMT"
    url = feed_server.serve("/rss", rss(item(1)), etag='"v1"', last_modified=stamp)
    feed = source(url)
    assert feeds.fetch(feed).new == 1
    feed.refresh_from_db()
    second = feeds.fetch(feed)
    assert second.not_modified and second.new == 0
    sent = feed_server.requests_to("/rss")[1]
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"v1"', stamp)
    assert Contribution.objects.count() == 1


def test_a_redirect_is_followed(feed_server, source):
    target = feed_server.serve("/moved-here", rss(item(7)))
    url = feed_server.serve("/old", location=target, status=301)
    assert feeds.fetch(source(url)).new == 1
    assert Contribution.objects.get().title == "Partner story 7"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_huge_response_is_refused_and_nothing_is_written(feed_server, source, settings, declared):
    settings.FEEDS_MAX_BYTES = 100_000
    if declared:
        url = feed_server.serve("/huge", rss(*[item(n, description="y" * 2000) for n in range(100)]))
    else:
        url = feed_server.serve("/huge", stream_bytes=5_000_000)
    feed = source(url)
    result = feeds.fetch(feed)
    feed.refresh_from_db()
    assert "larger than the limit of 100,000 bytes" in result.error
    assert "larger than the limit" in feed.last_error and feed.failures == 1
    assert not Contribution.objects.exists()


def test_a_duplicate_entry_arrives_once_within_a_feed_and_across_fetches(feed_server, source):
    url = feed_server.serve("/rss", rss(item(1), item(1, title="Partner story 1 (repeated)")))
    feed = source(url)
    assert feeds.fetch(feed).new == 1
    feed_server.serve("/rss", rss(item(1, title="Partner story 1, updated"), item(2)))
    second = feeds.fetch(feed)
    assert (second.new, second.seen) == (1, 1)
    assert sorted(Contribution.objects.values_list("title", flat=True)) == ["Partner story 1", "Partner story 2"]


def test_an_entry_without_a_guid_is_known_by_its_link(feed_server, source):
    bare = {k: v for k, v in item(3).items() if k != "guid"}
    url = feed_server.serve("/rss", rss(bare))
    feed = source(url)
    feeds.fetch(feed)
    feeds.fetch(feed)
    assert Contribution.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_fetches_racing_store_an_entry_once(feed_server, newsletter):
    """Two threads store the same entries at once: the database's unique constraint lets one row through."""
    url = feed_server.serve("/rss", rss(item(1), item(2)))
    feed = FeedSource.objects.create(newsletter=newsletter, name="Partner news", url=url)
    parsed = feeds.parse(rss(item(1), item(2)).encode())
    barrier = threading.Barrier(2)

    def store():
        try:
            result = feeds.FetchResult(feed)
            rows = feeds.wanted_entries(feed, parsed, result, timezone.now())
            barrier.wait()
            feeds.store(feed, rows, result, timezone.now(), "", "")
        finally:
            connection.close()

    threads = [threading.Thread(target=store) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Contribution.objects.filter(feed=feed).count() == 2


def test_the_unique_constraint_refuses_a_second_row_for_an_entry(newsletter):
    from django.db import IntegrityError

    feed = FeedSource.objects.create(newsletter=newsletter, name="Partner news", url="https://partner.example.org/rss")
    row = {
        "newsletter": newsletter,
        "feed": feed,
        "entry_key": "a" * 64,
        "title": "x",
        "summary": "x",
        "origin": "feed",
    }
    Contribution.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contribution.objects.create(**row)


def test_the_keyword_filter_lets_only_matching_entries_through(feed_server, source):
    url = feed_server.serve("/rss", rss(
        item(1, title="Foster care funding announced"),
        item(2, title="Car park closed", description="Nothing about care homes... wait, yes: Care homes."),
        item(3, title="Annual report"),
    ))  # fmt: skip
    result = feeds.fetch(source(url, keywords="foster, care homes"))
    assert (result.new, result.filtered) == (2, 1)
    assert not Contribution.objects.filter(title="Annual report").exists()


def test_old_entries_and_more_than_the_per_fetch_limit_wait(feed_server, source, settings):
    settings.FEEDS_MAX_ITEMS_PER_FETCH = 2
    url = feed_server.serve("/rss", rss(item(1, pubDate=recent(1)), item(2, pubDate=recent(2)),
                                        item(3, pubDate=recent(3)), item(4, pubDate=recent(60))))  # fmt: skip
    result = feeds.fetch(source(url))
    assert result.new == 2
    assert sorted(Contribution.objects.values_list("title", flat=True)) == ["Partner story 1", "Partner story 2"]


def test_a_source_failing_again_and_again_is_paused_with_its_last_error(feed_server, source, settings, editor_client):
    settings.FEEDS_MAX_FAILURES = 3
    url = feed_server.serve("/gone", "gone", status=500, content_type="text/plain")
    feed = source(url)
    for _ in range(3):
        feed.refresh_from_db()
        feeds.fetch(feed)
    feed.refresh_from_db()
    assert (feed.enabled, feed.failures) == (False, 3)
    assert "HTTP 500" in feed.last_error and "Paused after 3 failures" in feed.last_error
    assert not FeedSource.objects.due(timezone.now() + datetime.timedelta(days=7)).exists()
    page = editor_client.get(reverse("admin:newsletter_feedsource_changelist")).content.decode()
    assert "Paused after 3 failures" in page
    assert not Contribution.objects.exists()


def test_a_private_address_is_refused_without_the_setting(feed_server, source, settings):
    url = feed_server.serve("/rss", rss(item(1)))
    settings.FEEDS_ALLOW_PRIVATE = False
    feed = source(url)
    result = feeds.fetch(feed)
    assert "internal address" in result.error
    assert feed_server.requests == [] and not Contribution.objects.exists()


def test_the_beat_task_fetches_due_sources_only_and_the_command_reports_each(feed_server, source):
    from newsletter.inbox.tasks import fetch_due_feeds

    due = source(feed_server.serve("/a", rss(item(1))), name="A")
    later = source(feed_server.serve("/b", rss(item(2))), name="B")
    FeedSource.objects.filter(pk=later.pk).update(next_fetch_at=timezone.now() + datetime.timedelta(hours=1))
    assert fetch_due_feeds.delay().get() == 1
    assert fetch_due_feeds.delay().get() == 0  # A's interval has not passed
    due.refresh_from_db()
    assert due.next_fetch_at > timezone.now() + datetime.timedelta(minutes=59)
    out = StringIO()
    call_command("fetch_feeds", "--all", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1] A: 0 new, 1 already seen") and lines[1].startswith("[2] B: 1 new")
    assert lines[-1] == "2 source(s) fetched: 1 new item(s), 0 failed."


def test_editors_add_a_feed_in_the_admin_and_fetch_it_now(feed_server, editor_client, newsletter):
    url = feed_server.serve("/rss", rss(item(1)))
    response = editor_client.post(reverse("admin:newsletter_feedsource_add"), {
        "newsletter": newsletter.pk, "name": "Partner news", "url": url, "keywords": "", "section_heading": "Elsewhere",
        "interval_minutes": 60, "enabled": "on",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    feed = FeedSource.objects.get()
    response = editor_client.post(
        reverse("admin:newsletter_feedsource_changelist"),
        {"action": "fetch_now", "_selected_action": [feed.pk]},
        follow=True,
    )
    assert "Partner news: 1 new" in response.content.decode()
    assert Contribution.objects.get().suggested_heading == "Elsewhere"


def test_the_admin_refuses_an_internal_feed_address(editor_client, newsletter, settings):
    settings.FEEDS_ALLOW_PRIVATE = False
    response = editor_client.post(reverse("admin:newsletter_feedsource_add"), {
        "newsletter": newsletter.pk, "name": "Router", "url": "http://192.168.1.1/feed", "interval_minutes": 60,
    })  # fmt: skip
    assert response.status_code == 200 and "This feed cannot be fetched" in response.content.decode()
    assert not FeedSource.objects.exists()
