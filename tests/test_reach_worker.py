"""Reach (issue 14) through the real pipeline: a Celery worker on Redis, PostgreSQL and a real SMTP server. With
clicks counted, every message carries the same short links (nothing personal in them) in both parts; following one
counts one click, a HEAD request and the canary do not."""

import re

import pytest

from newsletter.archive.tasks import flush_reach_counts
from newsletter.models import Newsletter, TrackedLink
from newsletter.sending import workflow
from tests.test_delivery_worker import assert_exactly_once, issue_for, smtp, wait_for_send, worker, workers  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHORT = re.compile(r"https?://[^\s\"<>)]+/r/([0-9]+)\.([0-9a-f]+)")


def test_a_real_send_mails_the_same_short_links_to_everyone_and_counts_a_click_not_a_scan(
    request, client, settings, fresh_cache
):
    request.getfixturevalue("worker")  # the pipeline's fixtures (tests/test_delivery_worker.py)
    server, make = request.getfixturevalue("smtp"), request.getfixturevalue("issue_for")
    issue, people = make(3)
    Newsletter.objects.filter(pk=issue.newsletter_id).update(count_clicks=True)
    issue.refresh_from_db()

    workflow.start_send(issue)
    wait_for_send(issue)

    assert_exactly_once(server, people)
    parts = [
        (m.get_body(("html",)).get_content(), m.get_body(("plain",)).get_content()) for m in server.handler.parsed()
    ]
    html_links = {tuple(SHORT.findall(html)) for html, _ in parts}
    text_links = {tuple(SHORT.findall(text)) for _, text in parts}
    assert len(html_links) == 1 and len(text_links) == 1  # once per issue: the same for every recipient
    links = {(int(pk), sig) for pk, sig in next(iter(html_links)) + next(iter(text_links))}
    stored = {link.pk: link for link in TrackedLink.objects.filter(issue=issue)}
    assert links and all(stored[pk].signature == sig for pk, sig in links)
    for html, text in parts:
        assert "https://example.org/budget" not in text and 'href="https://example.org/budget"' not in html
        for person in people:
            assert not any(person.email in url for url in re.findall(r"\S*/r/\S*", html + text))

    settings.REACH_EARLY_SECONDS = 0  # the test clicks within a second of the send
    budget = TrackedLink.objects.get(issue=issue, url="https://example.org/budget")
    canary = TrackedLink.objects.get(issue=issue, canary=True)
    assert client.get(budget.path)["Location"] == "https://example.org/budget"
    assert client.head(budget.path).status_code == 302
    assert client.get(canary.path).status_code == 302
    flush_reach_counts()

    budget.refresh_from_db()
    assert (budget.clicks, budget.heads) == (1, 1)
    assert TrackedLink.objects.filter(issue=issue, canary=False).exclude(pk=budget.pk).filter(clicks__gt=0).count() == 0
