"""Review and send shows the live delivery progress of an issue that is sending: the issue page's figures,
wired to the admin's delivery-progress JSON that admin-progress.js polls (the browser side:
tests/test_browser_editor_progress.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber

pytestmark = pytest.mark.django_db


def sending_issue(make_issue, statuses):
    issue = make_issue("Weekly update 31.05.11", status=Issue.Status.SENDING, send_started_at=timezone.now())
    for n, status in enumerate(statuses):
        subscriber = Subscriber.objects.create(email=f"reader{n}@example.org")
        sent_at = timezone.now() if status == Delivery.Status.SENT else None
        Delivery.objects.create(issue=issue, subscriber=subscriber, status=status, sent_at=sent_at)
    return issue


def test_review_page_of_a_sending_issue_shows_the_live_progress(editor_client, make_issue, parse_html):
    issue = sending_issue(make_issue, ["sent", "failed", "pending", "pending"])
    page = parse_html(editor_client.get(reverse("editor:review", args=[issue.pk])))

    progress = page.find("span", class_="delivery-progress")
    url = reverse("admin:newsletter_issue_progress", args=[issue.pk])
    assert url == f"/admin/newsletter/issue/{issue.pk}/delivery-progress/"
    assert progress.attrs["data-url"] == url
    assert progress.text.startswith("4 total · 1 sent · 1 failed · 2 pending · 0 skipped · ")
    assert progress.text.endswith(" · sending")
    # The status at the top is the one the script rewrites when the send ends.
    assert progress.attrs["data-status-target"] == "review-issue-status"
    assert page.find(id="review-issue-status").text == "Sending"
    assert any(s.attrs.get("src", "").endswith("newsletter/admin-progress.js") for s in page.find_all("script"))

    data = editor_client.get(url).json()
    assert data | {"rate": 0} == {
        "total": 4, "sent": 1, "failed": 1, "skipped": 0, "pending": 2, "rate": 0,
        "status": "sending", "status_label": "Sending",
    }  # fmt: skip


def test_the_issue_page_and_the_review_page_show_the_same_figures(editor_client, make_issue, parse_html):
    issue = sending_issue(make_issue, ["sent", "sent", "pending"])
    review = parse_html(editor_client.get(reverse("editor:review", args=[issue.pk])))
    change = parse_html(editor_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])))
    on_review, on_change = (p.find("span", class_="delivery-progress") for p in (review, change))
    assert on_review.text == on_change.text
    assert on_review.attrs["data-url"] == on_change.attrs["data-url"]


def test_a_draft_shows_no_progress(editor_client, make_issue, parse_html):
    draft = make_issue("Weekly update 31.05.11", status=Issue.Status.DRAFT)
    page = parse_html(editor_client.get(reverse("editor:review", args=[draft.pk])))
    assert page.find("span", class_="delivery-progress") is None
    assert page.find(id="review-issue-status").text == "Draft"
