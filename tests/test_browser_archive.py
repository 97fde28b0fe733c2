"""A reader browses the archive in a real headless Chromium, on a desktop and on a phone."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import screenshot

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded():
    call_command("import_seeds", stdout=StringIO())


def test_reader_goes_from_the_home_page_to_an_issue_and_its_sections(seeded, page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Community Budgets Weekly Update").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Community Budgets Weekly Update"
    page.get_by_role("link", name="Weekly update 24.05.11").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Weekly update 24.05.11"
    # The contents list jumps to a section, whose permalink is on the page.
    page.get_by_role("link", name="BWB weekly update of government websites").first.click()
    assert "#s" in page.url
    assert page.locator("text=Safeguarding").first.is_visible()
    screenshot(page, "archive-issue")


def test_reader_searches_and_sees_highlighted_matches(seeded, page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox", name="Search the archive").fill("safeguarding")
    page.get_by_role("button", name="Search").click()
    assert page.locator("mark").count() > 0
    assert "safeguarding" in page.locator("mark").first.inner_text().lower()
    screenshot(page, "archive-search")


def test_issue_page_fits_a_phone_screen(seeded, page, live_server):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/community-budgets/")
    page.get_by_role("link", name="Weekly update 17.05.11").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    screenshot(page, "archive-issue-phone")


def test_skip_link_takes_keyboard_users_to_the_content(seeded, page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_reader_comments_are_shown_apart_under_the_article(seeded, page, live_server):
    page.goto(live_server.url + "/childrens-services-news/")
    page.locator("main a").filter(has_text="Regional Improvement Alliances").first.click()
    comments = page.get_by_role("region", name="Reader comments")
    assert comments.is_visible()
    assert "Waste of money" in comments.inner_text()
    assert "Waste of money" not in page.locator("article").first.inner_text().split("Reader comments")[0]
