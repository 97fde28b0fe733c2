"""The feeds' beat task through the real pipeline: a Celery worker on Redis and PostgreSQL fetches a feed served
on loopback into the inbox, and a second run stores nothing twice."""

import time

import pytest

from newsletter.inbox.tasks import fetch_due_feeds
from newsletter.models import Contribution, FeedSource
from tests.feed_helpers import rss
from tests.test_delivery_worker import smtp, workers, workers_with  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_real_worker_fetches_due_feeds_into_the_inbox(request, feed_server, newsletter):
    pool = request.getfixturevalue("workers_with")(FEEDS_ALLOW_PRIVATE="true")
    items = [{"title": f"Story {n}", "link": f"https://partner.example.org/{n}", "guid": f"g{n}"} for n in range(3)]
    url = feed_server.serve("/rss", rss(*items), etag='"v1"')
    source = FeedSource.objects.create(newsletter=newsletter, name="Partner news", url=url)

    fetch_due_feeds.delay()
    assert wait_for(lambda: Contribution.objects.filter(feed=source).count() == 3), "".join(pool.output[-30:])
    assert wait_for(lambda: FeedSource.objects.get(pk=source.pk).etag == '"v1"')

    FeedSource.objects.filter(pk=source.pk).update(next_fetch_at=None)  # due again
    fetch_due_feeds.delay()
    assert wait_for(lambda: len(feed_server.requests_to("/rss")) == 2)
    assert wait_for(lambda: FeedSource.objects.get(pk=source.pk).next_fetch_at is not None)
    assert feed_server.requests_to("/rss")[1]["If-None-Match"] == '"v1"'
    assert Contribution.objects.filter(feed=source).count() == 3
    assert sorted(Contribution.objects.values_list("title", flat=True)) == ["Story 0", "Story 1", "Story 2"]
