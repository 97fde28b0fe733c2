"""The composer (newsletter/editor/compose.py, static/newsletter/compose.js) in a real headless Chromium: an
editor starts next week's issue, opens it in the composer, adds a section, pastes from Word and from Outlook
(saved clipboard HTML in tests/fixtures/), reorders by keyboard, sees the preview follow, reloads and finds
everything saved; a second editor in another browser context is named, and the second save of one section
gets the conflict message with both texts; an edit typed while the server is unreachable is kept and saved."""

import datetime
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from newsletter.models import Issue, Section, SectionImage
from tests.browser_helpers import log_in_as_editor
from tests.conftest import ARTIFACTS
from tests.test_browser_axe import DJANGO_ADMIN_EXCLUDE, FAILING_IMPACTS, axe_source, run_axe  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = ROOT / "seeds"


def paste_html(page, selector, html):
    """A paste as the browser delivers it from Word or Outlook: a ClipboardEvent carrying text/html."""
    page.eval_on_selector(
        selector,
        """(field, html) => {
            field.focus();
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "plain");
            field.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        html,
    )


def open_composer(page, live_server, issue):
    page.goto(f"{live_server.url}/admin/editor/issue/{issue.pk}/compose/")
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()


def outline(page):
    return page.locator("#outline > li > button .composer-outline-heading").all_inner_texts()


def add_section(page):
    """Add a section and wait until the composer has it selected (an empty article, before "And lastly…")."""
    count = page.locator("#outline > li").count()
    page.get_by_role("button", name="Add a section").click()
    expect(page.locator("#outline > li")).to_have_count(count + 1)
    expect(page.locator("#outline button[aria-current=true]")).to_contain_text("(Article)")
    expect(page.get_by_label("Heading")).to_have_value("")


def headings(issue):
    return list(issue.sections.filter(parent=None).order_by("position").values_list("heading", flat=True))


@pytest.fixture
def last_week(live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("import_seeds", str(SEEDS / "002_d9b6d64c7e93d693.txt"), stdout=StringIO())
    return Issue.objects.get(title="Weekly update 24.05.11")


def test_an_editor_writes_next_weeks_issue_in_the_composer(page, live_server, last_week):
    log_in_as_editor(page.context, live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/newsletter/issue/?q=24.05.11")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("start_next_week")
    page.get_by_role("button", name="Go").click()
    draft = Issue.objects.get(title="Weekly update 31.05.11")
    page.get_by_role("link", name="Compose").click()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    before = outline(page)
    assert before[-1] == "And lastly…"

    # A new section, written and pasted into from Word: it goes before "And lastly…".
    add_section(page)
    page.get_by_label("Heading").fill("Care homes funding review")
    paste_html(page, "#f-body_markdown", (FIXTURES / "paste-word.html").read_text())
    expect(page.locator("#paste-notes")).to_contain_text("Pasted as Markdown.")
    body = page.get_by_label("Text (Markdown)")
    expect(body).to_have_value(re.compile(r"\*\*review of care home fees\*\*"))
    text = body.input_value()
    assert "- Residential care fees rise by 2.1%" in text and "1. Read the document" in text
    assert "[the\nconsultation document](https://www.example.gov.uk/care-fees?page=2)" in text  # utm_* dropped
    assert "mso-" not in text and "<" not in text and "o:p" not in text
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)

    # The preview follows: the sending code's email, in a sandboxed frame, scrolled to the section.
    frame = page.frame_locator("#preview-frame")
    expect(frame.get_by_text("Residential care fees rise by 2.1%")).to_be_visible(timeout=10_000)
    assert "#compose-" in page.locator("#preview-frame").get_attribute("src")
    assert page.locator("#preview-frame").get_attribute("sandbox") == ""

    # A second section pasted from Outlook: the embedded image and the javascript: link do not come through.
    add_section(page)
    page.get_by_label("Heading").fill("Volunteer drivers")
    paste_html(page, "#f-body_markdown", (FIXTURES / "paste-outlook.html").read_text())
    expect(page.locator("#paste-notes")).to_contain_text("embedded image")
    outlook = body.input_value()
    assert "**Volunteer drivers wanted**" in outlook and "javascript" not in outlook and "base64" not in outlook
    assert "(https://transport.example.org/volunteer?ref=newsletter)" in outlook
    page.get_by_label("Heading").focus()  # leaving the text box saves at once
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)

    # Reorder by keyboard: the chosen section moves up with Alt+↑.
    page.locator("#outline button[aria-current=true]").focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#outline-announce")).to_contain_text("Moved “Volunteer drivers”")
    order = headings(draft)
    assert order.index("Volunteer drivers") < order.index("Care homes funding review") < order.index("And lastly…")

    # Subject and preheader: counts and the inbox list.
    page.get_by_role("textbox", name="Preheader").fill("Care fees, volunteer drivers and more")
    expect(page.locator("#compose-preheader-count")).to_contain_text("37 / 100")
    expect(page.locator(".composer-inbox-row--gmail .inbox-preheader")).to_contain_text("Care fees")
    page.get_by_role("textbox", name="Subject").focus()
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)

    # Reload: everything is there.
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    assert outline(page) == headings(draft)
    page.locator("#outline button", has_text="Care homes funding review").click()
    expect(page.get_by_label("Text (Markdown)")).to_have_value(re.compile("Residential care fees rise by 2.1%"))
    expect(page.get_by_role("textbox", name="Preheader")).to_have_value("Care fees, volunteer drivers and more")
    saved = draft.sections.get(heading="Care homes funding review")
    assert "<li>Nursing care fees are frozen</li>" in saved.body_html
    expect(page.frame_locator("#preview-frame").get_by_text("Nursing care fees are frozen")).to_be_visible()
    screenshot = ARTIFACTS / "composer.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))


@pytest.fixture
def draft(make_issue, newsletter):
    return make_issue(
        "Weekly update 31 May 2011",
        status=Issue.Status.DRAFT,
        issue_date=datetime.date(2011, 5, 31),
        subject="This week",
        sections=[
            {"heading": "Budgets", "body_markdown": "Councils expect a difficult year."},
            {"heading": "Conference", "kind": Section.Kind.EVENT, "body_markdown": "Our annual conference."},
            {"heading": "And lastly…", "kind": Section.Kind.CLOSING, "body_markdown": "Thank you for reading."},
        ],
    )


def test_two_editors_on_one_draft_the_second_save_gets_the_conflict(browser, page, live_server, draft, fresh_cache):
    log_in_as_editor(page.context, live_server, username="ed")
    open_composer(page, live_server, draft)
    other_context = browser.new_context()
    other = other_context.new_page()
    log_in_as_editor(other_context, live_server, username="jo")
    open_composer(other, live_server, draft)
    expect(other.locator("#compose-presence")).to_contain_text("Also open by ed (since ")

    # Jo saves first; Ed, who loaded the same version, saves second.
    other.get_by_label("Text (Markdown)").fill("Jo's text about budgets.")
    other.get_by_label("Heading").focus()
    expect(other.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)
    page.get_by_label("Text (Markdown)").fill("Ed's text about budgets.")
    page.get_by_label("Heading").focus()
    conflict = page.get_by_role("alert").filter(has_text="Someone else saved this")
    expect(conflict).to_be_visible(timeout=10_000)
    expect(page.get_by_label("Your text")).to_have_value(re.compile("Ed's text about budgets."))
    expect(page.get_by_label("The text now saved")).to_have_value(re.compile("Jo's text about budgets."))
    assert draft.sections.get(heading="Budgets").body_markdown == "Jo's text about budgets."  # not overwritten

    page.get_by_role("button", name="Keep mine").click()
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)
    assert draft.sections.get(heading="Budgets").body_markdown == "Ed's text about budgets."
    other_context.close()


def test_text_typed_while_the_server_is_unreachable_is_kept_and_saved(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)
    section_url = re.compile(r".*/compose/section/\d+/$")
    page.route(section_url, lambda route: route.abort())
    page.get_by_label("Text (Markdown)").fill("Written on a train.")
    page.get_by_label("Heading").focus()
    expect(page.locator("#compose-status")).to_contain_text("kept on this computer", timeout=10_000)
    kept = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('compose:'))")
    assert kept

    # Closing the tab now and coming back: the text is restored from localStorage and saved.
    page.unroute(section_url)
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    # Saved by the reloaded page, or already by the retry that was waiting when the connection came back:
    # either way the text reaches the server and nothing is left on this computer.
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('compose:'))", timeout=15_000)
    expect(page.locator("#compose-status")).to_contain_text(re.compile("Saved ·|All changes saved"))
    assert draft.sections.get(heading="Budgets").body_markdown == "Written on a train."


def test_the_composer_fits_a_tablet(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    page.set_viewport_size({"width": 820, "height": 1180})
    open_composer(page, live_server, draft)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820
    # The event fields show for an event only.
    expect(page.locator("#event-fields")).to_be_hidden()
    page.locator("#outline button", has_text="Conference").click()
    expect(page.get_by_label("Venue")).to_be_visible()


@pytest.mark.parametrize("view", ["Email", "Plain text"])
def test_the_composer_has_no_serious_accessibility_violations(page, live_server, draft, axe_source, view):  # noqa: F811
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)
    page.get_by_role("tab", name=view).click()
    violations = run_axe(page, axe_source, exclude=DJANGO_ADMIN_EXCLUDE)
    serious = [v for v in violations if v[1] in FAILING_IMPACTS]
    assert not serious, serious


def test_an_editor_adds_a_link_and_sets_an_images_alt_text(page, live_server, draft):
    budgets = draft.sections.get(heading="Budgets")
    SectionImage.objects.create(section=budgets, image="sections/2011/05/chart.png", alt_text="chart")
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)

    page.get_by_label("Link address").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add link").click()
    expect(page.locator("#link-error")).to_contain_text("https://")
    page.get_by_label("Link address").fill("https://example.org/budget-2011")
    page.get_by_label("Link text").fill("The budget papers")
    page.get_by_role("button", name="Add link").click()
    expect(page.locator("#section-links")).to_contain_text("The budget papers — https://example.org/budget-2011")
    assert list(budgets.links.values_list("url", "title")) == [("https://example.org/budget-2011", "The budget papers")]
    page.get_by_role("button", name="Edit link “The budget papers”").click()
    page.get_by_label("Link text").fill("The council's budget papers")
    page.get_by_role("button", name="Save link").click()
    expect(page.locator("#section-links")).to_contain_text("The council's budget papers")

    page.get_by_label("Alt text of image 1").fill("Bar chart: spending falls by 4% in 2011")
    page.get_by_label("Alt text of image 1").press("Tab")
    expect(page.locator("#parts-announce")).to_have_text("Alt text saved.")
    assert budgets.images.get().alt_text == "Bar chart: spending falls by 4% in 2011"
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    expect(page.get_by_label("Alt text of image 1")).to_have_value("Bar chart: spending falls by 4% in 2011")
    expect(page.locator("#section-links")).to_contain_text("The council's budget papers")


@pytest.fixture
def digest(make_issue, newsletter):
    return make_issue(
        "Weekly update 7 June 2011",
        status=Issue.Status.DRAFT,
        issue_date=datetime.date(2011, 6, 7),
        sections=[
            {"heading": "Round-up", "kind": Section.Kind.DIGEST, "items": [{"heading": "Care homes"}]},
            {"heading": "Parks", "body_markdown": "New benches."},
            {"heading": "And lastly…", "kind": Section.Kind.CLOSING, "body_markdown": "Thanks."},
        ],
    )


def test_an_item_moves_into_the_group_above_and_out_by_keyboard(page, live_server, digest):
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, digest)
    parks = digest.sections.get(heading="Parks")
    page.locator("#outline button", has_text="Parks").click()
    expect(page.get_by_role("button", name="Move into group above")).to_be_visible()
    expect(page.get_by_role("button", name="Move out of group")).to_be_hidden()
    page.locator("#outline button[aria-current=true]").focus()
    page.keyboard.press("Alt+ArrowRight")
    expect(page.locator("#outline-announce")).to_have_text("Moved “Parks” into the group “Round-up”, item 2 of 2.")
    parks.refresh_from_db()
    assert parks.parent.heading == "Round-up" and parks.kind == Section.Kind.DIGEST_ITEM and parks.position == 2
    expect(page.locator("#outline ol[data-parent] button", has_text="Parks")).to_be_focused()
    expect(page.get_by_role("button", name="Move out of group")).to_be_visible()
    expect(page.get_by_label("Kind")).to_be_hidden()  # an item's kind is fixed

    # A group does not nest: Alt+→ on an item only explains.
    page.keyboard.press("Alt+ArrowRight")
    expect(page.locator("#outline-announce")).to_contain_text("groups do not nest")

    page.get_by_role("button", name="Move out of group").click()
    expect(page.locator("#outline-announce")).to_have_text(
        "Moved “Parks” out of the group “Round-up”, to place 2 of 3."
    )
    parks.refresh_from_db()
    assert parks.parent_id is None and parks.kind == Section.Kind.ARTICLE
    assert headings(digest) == ["Round-up", "Parks", "And lastly…"]
    page.locator("#outline button", has_text="Care homes").focus()
    page.keyboard.press("Alt+ArrowLeft")
    expect(page.locator("#outline-announce")).to_contain_text(
        "Moved “Care homes” out of the group “Round-up”, to place 2"
    )
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    assert outline(page) == ["Round-up", "Care homes", "Parks", "And lastly…"]


def test_an_editor_ticks_a_sections_topics(page, live_server, draft):
    from newsletter.models import Topic

    Topic.objects.create(newsletter=draft.newsletter, name="Budgets", slug="budgets", position=1)
    Topic.objects.create(newsletter=draft.newsletter, name="Events", slug="events", position=2)
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)
    topics = page.get_by_role("group", name="Topics")
    expect(topics).to_be_visible()
    topics.get_by_label("Budgets").check()
    page.get_by_label("Heading").focus()  # leaving a field saves at once
    expect(page.locator("#compose-status")).to_contain_text("Saved ·", timeout=10_000)
    assert list(draft.sections.get(heading="Budgets").topics.values_list("name", flat=True)) == ["Budgets"]
    expect(page.locator("#outline button[aria-current=true] .composer-chip--topic")).to_have_text("Budgets")
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    expect(page.get_by_role("group", name="Topics").get_by_label("Budgets")).to_be_checked()
    expect(page.get_by_role("group", name="Topics").get_by_label("Events")).not_to_be_checked()


def test_dragging_a_section_reorders_the_outline_and_the_order_is_saved(page, live_server, draft):
    log_in_as_editor(page.context, live_server)
    open_composer(page, live_server, draft)
    assert outline(page) == ["Budgets", "Conference", "And lastly…"]
    source = page.locator("#outline > li", has_text="Budgets")
    target = page.locator("#outline > li", has_text="Conference")
    source.drag_to(target)
    expect(page.locator("#outline-announce")).to_have_text("Moved “Budgets” to place 2 of 3.")
    page.reload()
    expect(page.locator("#composer[data-ready=true]")).to_be_attached()
    assert outline(page) == ["Conference", "Budgets", "And lastly…"]
    assert headings(draft) == ["Conference", "Budgets", "And lastly…"]
