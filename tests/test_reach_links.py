"""Reach (issue 14): with the newsletter counting clicks, a send rewrites its links once per issue to short links
that name no reader; with it off, links are untouched."""

import datetime
import re

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from newsletter.models import Subscriber, Subscription, TrackedLink
from newsletter.sending import workflow

pytestmark = pytest.mark.django_db

SHORT = re.compile(r"https?://[^\s\"<>)]+/r/[^\s\"<>)]+")


@pytest.fixture
def readers(newsletter):
    people = []
    for n in range(2):
        person = Subscriber.objects.create(email=f"reader{n}@example.com", name=f"Reader {n}")
        Subscription.objects.create(
            subscriber=person,
            newsletter=newsletter,
            status=Subscription.Status.ACTIVE,
            confirmed_at=timezone.now() - datetime.timedelta(days=1),
        )
        people.append(person)
    return people


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(issue):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(issue)
        issue.refresh_from_db()
        return issue

    return run


def _html(message):
    return message.alternatives[0][0]


def test_sent_links_are_the_same_short_links_for_every_reader_and_name_nobody(newsletter, rich_issue, readers, send):
    newsletter.count_clicks = True
    newsletter.save()
    issue = send(rich_issue.copy_as_draft())

    first, second = sorted(mail.outbox, key=lambda m: m.to[0])
    assert len(mail.outbox) == 2
    for part in (_html, lambda m: m.body):
        assert SHORT.findall(part(first)) == SHORT.findall(part(second))
    shorts = SHORT.findall(_html(first)) + SHORT.findall(first.body)
    assert shorts and all(url.startswith(settings.SITE_URL + "/r/") for url in shorts)
    for url in shorts:  # nothing but a link of this issue and its signature: no reader's id or address
        assert not any(person.email in url or person.email.split("@")[0] in url for person in readers)
        link_id, signature = re.fullmatch(r".*/r/([0-9]+)\.([0-9a-f]+)", url).groups()
        assert TrackedLink.objects.get(pk=link_id, issue=issue).signature == signature
    # The targets themselves are gone from both parts; the personal links stay personal.
    assert 'href="http://www.localgov.co.uk/budgets"' not in _html(first)
    assert "http://www.localgov.co.uk/budgets" not in first.body
    assert "https://example.org/programme" not in _html(first) + first.body
    assert "/unsubscribe/" in first.body and "/preferences/" in first.body
    assert "We count clicks on links, not who clicked" in first.body and "not who clicked" in _html(first)


def test_the_short_links_are_made_once_per_issue_with_their_sections(newsletter, rich_issue, readers, send):
    newsletter.count_clicks = True
    newsletter.save()
    issue = send(rich_issue.copy_as_draft())

    links = list(TrackedLink.objects.filter(issue=issue))
    assert len(links) == len({(link.section_id, link.url, link.canary) for link in links})
    budgets = [link for link in links if link.url == "http://www.localgov.co.uk/budgets"]
    assert len(budgets) == 1 and budgets[0].section.heading == "Council budgets under pressure"
    assert [link for link in links if link.canary] == [link for link in links if link.canary][:1]
    canary = next(link for link in links if link.canary)
    assert canary.path in issue.sent_html and canary.path not in issue.sent_text
    assert 'aria-hidden="true"' in issue.sent_html.split(canary.path)[1][:40]
    for link in links:
        if not link.canary:
            assert link.path in issue.sent_html


def test_with_reach_off_links_are_untouched(newsletter, rich_issue, readers, send):
    issue = send(rich_issue.copy_as_draft())

    assert not TrackedLink.objects.exists()
    message = mail.outbox[0]
    assert "/r/" not in _html(message) and "/r/" not in message.body
    assert "http://www.localgov.co.uk/budgets" in _html(message) and "http://www.localgov.co.uk/budgets" in message.body
    assert "not who clicked" not in issue.sent_html + issue.sent_text
