"""The Content-Security-Policy (no inline script or style) holds for the archive and for every admin page.

Two ways: every page's HTML is read for what the policy would block, and a real
Chromium reports any violation while a reader and an editor go through the site.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db
# Scripts a browser reads as data and never runs, so the policy does not govern them (JSON-LD on issue pages).
DATA_BLOCKS = ("application/json", "application/ld+json")


def blocked_by_policy(root):
    """What `script-src 'self'; style-src 'self'; img-src 'self' https:` would block on a page."""
    problems = []
    for el in root.iter():
        if el.tag == "script" and "src" not in el.attrs and el.attrs.get("type") not in DATA_BLOCKS:
            problems.append(f"inline script: {el.text[:60]}")
        if el.tag == "script" and el.attrs.get("src", "/").startswith(("http:", "https:", "//")):
            problems.append(f"script from another site: {el.attrs['src']}")
        if el.tag == "style":
            problems.append(f"inline <style>: {el.text[:60]}")
        if el.tag == "img" and el.attrs.get("src", "").startswith(("http:", "data:")):
            problems.append(f"image the policy refuses: {el.attrs['src'][:60]}")
        for name, value in el.attrs.items():
            if name == "style":
                problems.append(f"style attribute on <{el.tag}>: {value}")
            if name.startswith("on"):
                problems.append(f"event handler attribute {name} on <{el.tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                problems.append(f"javascript: URL on <{el.tag}>")
    return problems


def archive_pages(archive):
    return [
        "/",
        archive.newsletter.get_absolute_url(),
        archive.rich.get_absolute_url(),
        reverse("archive:search") + "?q=dementia",
        reverse("archive:tag", args=["events"]),
    ]


def admin_pages():
    """The admin's index, and each registered model's list, add form and one change form."""
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        for name, args in (("changelist", []), ("add", [])):
            try:
                pages.append(reverse(f"admin:{info[0]}_{info[1]}_{name}", args=args))
            except NoReverseMatch:
                continue
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[first.pk]))
    return pages


def test_archive_pages_have_nothing_the_policy_would_block(client, archive, parse_html):
    for path in archive_pages(archive):
        response = client.get(path)
        assert response.status_code == 200, path
        assert blocked_by_policy(parse_html(response)) == [], path


def test_every_admin_page_has_nothing_the_policy_would_block(admin_client, archive, parse_html):
    checked = 0
    for path in admin_pages():
        response = admin_client.get(path)
        if response.status_code != 200:  # e.g. an add form an admin switched off
            continue
        assert blocked_by_policy(parse_html(response)) == [], path
        checked += 1
    assert checked > 15


CSP_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.mark.django_db(transaction=True)
def test_a_browser_reports_no_policy_violation_for_a_reader_or_an_editor(page, live_server, archive):
    User.objects.create_superuser("editor", "editor@example.org", "a long test password")
    page.add_init_script(CSP_RECORDER)
    violations = {}

    def visit(path):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        found = page.evaluate("window.__csp")
        if found:
            violations[path] = found

    for path in archive_pages(archive):
        visit(path)
    visit(reverse("admin:login"))
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long test password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("link", name="Log out").count() + page.get_by_role("button", name="Log out").count()
    for path in (
        reverse("admin:index"),
        reverse("admin:newsletter_issue_changelist"),
        reverse("admin:newsletter_issue_change", args=[archive.rich.pk]),  # inlines, filter_horizontal, collapse
        reverse("admin:newsletter_issue_add"),  # prepopulated slug
        reverse("admin:newsletter_comment_changelist"),  # list_editable, actions
        reverse("admin:newsletter_section_add"),  # raw id fields
    ):
        visit(path)
    # Scripts really run under the policy: the prepopulated slug follows the title.
    page.goto(live_server.url + reverse("admin:newsletter_issue_add"))
    page.locator("#id_title").press_sequentially("Scripts still run")
    assert page.locator("#id_slug").input_value() == "scripts-still-run"

    assert violations == {}
