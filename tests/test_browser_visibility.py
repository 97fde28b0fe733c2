"""Visibility in a real headless Chromium: an editor makes a draft subscribers-only in the composer and finds it
saved after a reload; a reader opens a subscribers-only issue from their own link and, without it, is invited to
subscribe."""

import pytest
from playwright.sync_api import expect

from newsletter import tokens
from newsletter.models import Issue, Subscriber
from tests import test_browser_composer
from tests.browser_helpers import log_in_as_editor

pytestmark = pytest.mark.django_db(transaction=True)
draft, open_composer = test_browser_composer.draft, test_browser_composer.open_composer


def test_an_editor_makes_a_draft_subscribers_only_in_the_composer(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)
    choice = page.get_by_label("Who can read it", exact=True)
    expect(choice).to_have_value("public")

    choice.select_option(label="Subscribers only")

    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)
    assert Issue.objects.get(pk=draft.pk).visibility == Issue.Visibility.SUBSCRIBERS
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    expect(page.get_by_label("Who can read it", exact=True)).to_have_value("subscribers")


def test_a_reader_opens_a_subscribers_only_issue_only_with_their_link(page, live_server, make_issue):
    issue = make_issue(
        "Members' briefing",
        status=Issue.Status.SENT,
        visibility=Issue.Visibility.SUBSCRIBERS,
        sections=[{"heading": "For members", "body_markdown": "The budget in detail."}],
    )
    reader = Subscriber.objects.create(email="reader@example.org")

    page.goto(f"{live_server.url}{issue.get_absolute_url()}?token={tokens.reader_token(reader.pk, issue.pk)}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Members' briefing")
    expect(page.get_by_text("The budget in detail.")).to_be_visible()

    page.goto(f"{live_server.url}{issue.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This issue is for subscribers")
    expect(page.get_by_text("The budget in detail.")).to_have_count(0)
    expect(page.get_by_role("button", name="Subscribe")).to_be_visible()
