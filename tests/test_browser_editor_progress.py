"""After "Send now" the editor lands on Review and send: its progress follows the send in a real headless
Chromium, and stops asking once the send is done."""

import pytest
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber
from tests.browser_helpers import log_in_as_editor

pytestmark = pytest.mark.django_db(transaction=True)


def test_review_page_progress_follows_the_send_and_stops_when_it_is_done(page, live_server, make_issue):
    issue = make_issue("Weekly update 31.05.11", status=Issue.Status.SENDING, send_started_at=timezone.now())
    for n in range(3):
        Delivery.objects.create(issue=issue, subscriber=Subscriber.objects.create(email=f"reader{n}@example.org"))
    log_in_as_editor(page.context, live_server)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "delivery-progress" in request.url else None)

    page.goto(f"{live_server.url}/admin/editor/issue/{issue.pk}/review/")
    progress = page.locator(".delivery-progress")
    assert progress.inner_text().startswith("3 total · 0 sent · 0 failed · 3 pending")
    assert page.locator("#review-issue-status").inner_text() == "Sending"
    page.wait_for_function(
        "() => window.performance.getEntriesByType('resource').some(e => e.name.includes('delivery-progress'))"
    )

    # The worker sends every copy and finishes the issue (as newsletter.sending.worker records it).
    Delivery.objects.filter(issue=issue).update(status=Delivery.Status.SENT, sent_at=timezone.now())
    Issue.objects.move(issue.pk, Issue.Status.SENDING, Issue.Status.SENT, sent_at=timezone.now())

    page.wait_for_function(
        "() => document.querySelector('.delivery-progress').textContent.includes('3 sent')", timeout=10_000
    )
    assert progress.inner_text().startswith("3 total · 3 sent · 0 failed · 0 pending")
    assert progress.inner_text().endswith(" · sent")
    assert page.locator("#review-issue-status").inner_text() == "Sent"

    # Done: no more polling (it polls every 2 s while sending).
    asked = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == asked
