"""The admin index shows the editor's week at a glance."""

import datetime

import pytest
from django.utils import timezone

from newsletter.editor.dashboard import list_growth
from newsletter.models import Contribution, Subscriber, Subscription

pytestmark = pytest.mark.django_db


def subscribe(newsletter, email, confirmed=None, left=None):
    subscriber = Subscriber.objects.create(email=email)
    return Subscription.objects.create(
        subscriber=subscriber,
        newsletter=newsletter,
        status="unsubscribed" if left else "active",
        confirmed_at=confirmed,
        unsubscribed_at=left,
    )


def test_list_growth_counts_joins_and_leaves_per_week(newsletter):
    today = datetime.date(2026, 11, 18)  # a Wednesday
    monday = datetime.datetime(2026, 11, 16, 10, tzinfo=datetime.UTC)
    subscribe(newsletter, "a@example.org", confirmed=monday)
    subscribe(newsletter, "b@example.org", confirmed=monday + datetime.timedelta(days=1))
    subscribe(newsletter, "c@example.org", confirmed=monday - datetime.timedelta(days=20), left=monday)
    weeks = list_growth(weeks=4, today=today)
    assert [(w.start.isoformat(), w.gained, w.lost) for w in weeks] == [
        ("2026-10-26", 1, 0),
        ("2026-11-02", 0, 0),
        ("2026-11-09", 0, 0),
        ("2026-11-16", 2, 1),
    ]


def test_admin_index_shows_drafts_inbox_and_growth(editor_client, make_issue, newsletter):
    make_issue("Weekly update 31.05.11", status="draft")
    Contribution.objects.create(newsletter=newsletter, title="x", summary="y", contact_email="a@example.org")
    subscribe(newsletter, "a@example.org", confirmed=timezone.now())
    page = editor_client.get("/admin/").content.decode()
    assert "Weekly update 31.05.11" in page
    assert "1 item waiting in the inbox" in page
    assert "+1 joined" in page
    assert "Nothing sent yet." in page
