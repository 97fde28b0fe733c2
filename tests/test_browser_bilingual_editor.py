"""An editor writes a bilingual issue in both languages in one form, in Chromium: the admin's issue page (its
sections inline) and the composer, each field labelled with its language and carrying its lang attribute; the
pre-send check names the section written in one language only until the other is written."""

import pytest
from playwright.sync_api import expect

from newsletter.models import Issue, Section
from tests.browser_helpers import log_in_as_editor
from tests.conftest import screenshot
from tests.test_browser_axe import DJANGO_ADMIN_EXCLUDE, FAILING_IMPACTS, axe_source, run_axe  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(make_newsletter, make_issue):
    council = make_newsletter(
        "Council News", slug="council-news", second_language="cy", sender_email="news@council.example"
    )
    return make_issue(
        "Spring news",
        newsletter=council,
        status=Issue.Status.DRAFT,
        sections=[{"heading": "Parks", "body_markdown": "The parks open at eight."}],
    )


def test_the_issue_page_has_both_languages_side_by_side(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    page.goto(f"{live_server.url}/admin/newsletter/issue/{draft.pk}/change/")

    title = page.get_by_label("Title (Cymraeg)")
    assert title.get_attribute("lang") == "cy" and page.get_by_label("Title (English)").get_attribute("lang") == "en-GB"
    # Side by side: the Welsh title on the same row as the English, to its right.
    expect(page.locator(".form-row.field-title.field-second_title")).to_have_count(1)
    assert title.bounding_box()["x"] > page.get_by_label("Title (English)").bounding_box()["x"]
    screenshot(page, "bilingual-issue-admin")
    title.fill("Newyddion y gwanwyn")
    page.get_by_label("Heading (Cymraeg)").first.fill("Parciau")
    page.get_by_label("Body markdown (Cymraeg)").first.fill("Mae'r parciau ar agor am wyth.")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()

    draft.refresh_from_db()
    section = draft.sections.get()
    assert draft.second_title == "Newyddion y gwanwyn"
    assert (section.second_heading, section.second_body_markdown) == ("Parciau", "Mae'r parciau ar agor am wyth.")
    assert "ar agor am wyth" in section.second_body_html


def test_the_composer_writes_the_second_language_and_the_check_follows(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    page.goto(f"{live_server.url}/admin/editor/issue/{draft.pk}/compose/")
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()

    # Written in English only: the pre-send check says so on the section.
    findings = page.locator("#section-findings")
    expect(findings).to_contain_text("Written in English but not in Cymraeg: heading, text.")
    welsh_heading = page.get_by_label("Heading (Cymraeg)")
    assert welsh_heading.get_attribute("lang") == "cy" and page.get_by_label("Heading (English)").is_visible()
    welsh_heading.fill("Parciau")
    page.get_by_label("Text (Markdown) (Cymraeg)").fill("Mae'r parciau ar agor am wyth.")
    page.get_by_label("Subject (Cymraeg)").fill("Newyddion y gwanwyn")
    page.get_by_label("Subject (Cymraeg)").blur()
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)
    expect(findings).not_to_contain_text("Cymraeg", timeout=10_000)
    # The preview in either language.
    page.get_by_label("Preview in").select_option("cy")
    expect(page.frame_locator("#preview-frame").get_by_role("heading", name="Parciau")).to_be_visible(timeout=10_000)
    screenshot(page, "bilingual-composer")

    section = Section.objects.get(issue=draft)
    assert (section.second_heading, section.second_body_markdown) == ("Parciau", "Mae'r parciau ar agor am wyth.")
    draft.refresh_from_db()
    assert draft.second_subject == "Newyddion y gwanwyn"


@pytest.mark.parametrize("path", ["/admin/newsletter/issue/{pk}/change/", "/admin/editor/issue/{pk}/compose/"])
def test_both_forms_have_no_serious_accessibility_violations(page, live_server, draft, axe_source, path):  # noqa: F811
    log_in_as_editor(page.context, live_server)
    page.goto(live_server.url + path.format(pk=draft.pk))
    page.wait_for_load_state("load")
    if "compose" in path:
        expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    violations = run_axe(page, axe_source, exclude=DJANGO_ADMIN_EXCLUDE)
    serious = [v for v in violations if v[1] in FAILING_IMPACTS]
    assert not serious, serious
