"""Where Django admin's markup left controls nameless on the editor's pages (newsletter/admin/accessible.py,
the issue list's category filter); the whole pages are checked with axe in tests/test_browser_axe.py."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_tabular_inline_inputs_are_named_after_their_column(editor_client, rich_issue, parse_html):
    section = rich_issue.sections.get(heading="Making the Equality Framework work for you")
    page = parse_html(editor_client.get(reverse("admin:newsletter_section_change", args=[section.pk])))
    for name, label in [("links-0-url", "Url"), ("links-0-title", "Title"), ("links-0-DELETE", "Delete")]:
        assert page.find("input", name=name).attrs.get("aria-label") == label
    assert page.find("input", name="images-0-alt_text").attrs.get("aria-label") == "Alt text"
    assert "aria-label" not in page.find("input", name="links-0-id").attrs  # hidden inputs need no name

    issue_page = parse_html(editor_client.get(reverse("admin:newsletter_issue_change", args=[rich_issue.pk])))
    assert issue_page.find("input", name="comments-0-author").attrs.get("aria-label") == "Author"


def test_the_category_filter_names_issues_without_a_category(editor_client, rich_issue, make_issue, parse_html):
    make_issue("Autumn round-up", category="Round-ups")
    page = parse_html(editor_client.get(reverse("admin:newsletter_issue_changelist")))
    links = {a.text: a.attrs["href"] for a in page.find(id="changelist-filter").find_all("a")}
    assert links["No category"] == "?category="
    assert links["Round-ups"] == "?category=Round-ups"
    assert "" not in links
