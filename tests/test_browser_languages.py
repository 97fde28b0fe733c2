"""A reader switches between English and Welsh in a real headless Chromium: the same page, the other language,
and a Welsh search stays Welsh."""

import pytest

from tests.browser_helpers import switch_language
from tests.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_language_switch_takes_a_reader_to_the_same_page_in_welsh_and_back(rich_issue, page, live_server):
    path = rich_issue.get_absolute_url()
    page.goto(live_server.url + path)
    assert page.get_by_role("heading", name="In this issue").is_visible()

    assert switch_language(page, "Cymraeg") == "cy"
    assert page.url == live_server.url + "/cy" + path
    assert page.get_by_role("heading", level=1).inner_text() == rich_issue.title  # the editor's words stay
    assert page.get_by_role("heading", name="Yn y rhifyn hwn").is_visible()
    screenshot(page, "archive-issue-cy")

    # Searching from a Welsh page keeps the reader in Welsh.
    page.get_by_role("searchbox", name="Chwilio’r archif").fill("sausages")
    page.get_by_role("button", name="Chwilio").click()
    page.wait_for_url("**/cy/search/?q=sausages")
    assert page.get_by_role("heading", level=1).inner_text() == "Canlyniadau chwilio am “sausages”"
    assert page.get_by_role("link", name=rich_issue.title).is_visible()

    assert switch_language(page, "English") == "en-GB"
    assert page.url == live_server.url + "/search/?q=sausages"
    assert page.get_by_role("heading", level=1).inner_text() == "Search results for “sausages”"


def test_the_switch_is_reachable_by_keyboard_and_says_its_language(rich_issue, page, live_server):
    page.goto(live_server.url + "/")
    link = page.locator("nav.language-switch").get_by_role("link", name="Cymraeg")
    assert link.get_attribute("lang") == "cy" and link.get_attribute("hreflang") == "cy"
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/cy/")
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("navigation", name="Iaith").get_by_role("link", name="English").is_visible()
