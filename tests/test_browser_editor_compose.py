"""Composing sections on the issue page, in a real headless Chromium: a section added with "Add another
Section" has its buttons at once and goes before "And lastly…"; event fields show for events only; the
Preview buttons and the character counts fit their rows."""

import datetime

import pytest

from newsletter.models import Issue, Section
from tests.browser_helpers import log_in_as_editor
from tests.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = "#sections-group .inline-related:not(.empty-form)"
NEW_ROWS = ROWS + ":not(.has_original)"


@pytest.fixture
def draft(make_issue):
    return make_issue(
        "Weekly update 31 May 2011",
        status=Issue.Status.DRAFT,
        issue_date=datetime.date(2011, 5, 31),
        intro="Welcome to this week's update.",
        subject="This week: budgets and a conference",
        preheader="Councils expect a difficult year, and the conference is booking now",
        sections=[
            {"heading": "Budgets", "body_markdown": "Councils expect a difficult year."},
            {
                "heading": "Conference",
                "kind": Section.Kind.EVENT,
                "body_markdown": "Our annual conference.",
                "event_date": datetime.date(2011, 6, 21),
                "venue": "Hereford",
            },
            {"heading": "And lastly…", "kind": Section.Kind.CLOSING, "body_markdown": "Thank you for reading."},
        ],
    )


@pytest.fixture
def editor(page, live_server):
    log_in_as_editor(page.context, live_server)
    return page


def open_issue(page, live_server, issue):
    page.goto(f"{live_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.wait_for_load_state("load")  # django-admin-sortable2 starts on load


def rows(page):
    """Each section row on the page, in order: (heading, kind, position)."""
    return page.eval_on_selector_all(
        ROWS,
        """rows => rows.map(row => [
            row.querySelector("input[name$='-heading']").value,
            row.querySelector("select[name$='-kind']").value,
            row.querySelector("input[name$='-position']").value,
        ])""",
    )


def saved(issue):
    return list(issue.sections.filter(parent=None).order_by("position").values_list("heading", flat=True))


def test_an_added_section_has_its_buttons_at_once_and_goes_before_the_closing_section(editor, live_server, draft):
    page = editor
    open_issue(page, live_server, draft)
    page.get_by_text("Add another Section").click()

    new = page.locator(NEW_ROWS)
    assert new.count() == 1
    assert new.get_by_role("button", name="Move up").is_visible()
    assert new.get_by_role("button", name="Move down").is_visible()
    assert new.get_by_role("button", name="Preview").is_visible()
    assert rows(page) == [
        ["Budgets", "article", "1"],
        ["Conference", "event", "2"],
        ["", "article", "3"],
        ["And lastly…", "closing", "4"],
    ]
    assert new.locator("select[name$='-kind']").evaluate("el => el === document.activeElement")

    # Its Preview works before the issue is saved.
    new.locator("input[name$='-heading']").fill("Library hours")
    new.locator("textarea[name$='-body_markdown']").fill("Open **until 8pm**.")
    new.get_by_role("button", name="Preview").click()
    assert new.locator(".markdown-preview strong").inner_text() == "until 8pm"

    # Its Move up works too, and the positions follow.
    new.get_by_role("button", name="Move up").click()
    assert [row[0] for row in rows(page)] == ["Budgets", "Library hours", "Conference", "And lastly…"]
    assert [row[2] for row in rows(page)] == ["1", "2", "3", "4"]
    screenshot(page, "editor-added-section")

    page.get_by_role("button", name="Save and continue editing").click()
    assert saved(draft) == ["Budgets", "Library hours", "Conference", "And lastly…"]


def test_several_added_sections_keep_their_order_and_a_removed_or_empty_one_is_not_saved(editor, live_server, draft):
    page = editor
    open_issue(page, live_server, draft)
    for _ in range(3):
        page.get_by_text("Add another Section").click()
    new = page.locator(NEW_ROWS)
    assert [row[1] for row in rows(page)] == ["article", "event", "article", "article", "article", "closing"]

    # Removing the first new row renames the rest (Django renames by place on the page: a new row above
    # "And lastly…" must not take a saved row's index).
    new.nth(0).locator(".inline-deletelink").click()
    assert page.locator(NEW_ROWS).count() == 2
    page.locator(NEW_ROWS).nth(0).locator("input[name$='-heading']").fill("Roadworks")
    page.locator(NEW_ROWS).nth(0).locator("textarea[name$='-body_markdown']").fill("The A20 closes on Sunday.")
    # The last new row is left empty: it is not saved, though its position was renumbered.
    page.get_by_role("button", name="Save and continue editing").click()
    assert page.locator(".errornote").count() == 0, page.locator(".errornote").inner_text()
    assert saved(draft) == ["Budgets", "Conference", "Roadworks", "And lastly…"]
    assert draft.sections.count() == 4


def test_without_a_closing_section_an_added_section_goes_last(editor, live_server, draft):
    draft.sections.filter(kind=Section.Kind.CLOSING).delete()
    page = editor
    open_issue(page, live_server, draft)
    page.get_by_text("Add another Section").click()
    assert rows(page) == [["Budgets", "article", "1"], ["Conference", "event", "2"], ["", "article", "3"]]


def event_fields_shown(row):
    return {
        name: row.locator(f"[name$='-{name}']").is_visible()
        for name in ("event_date", "event_time", "venue", "fee", "booking")
    }


def test_event_fields_show_for_events_only_and_follow_the_kind(editor, live_server, draft):
    page = editor
    open_issue(page, live_server, draft)
    budgets, conference, closing = (page.locator(ROWS).nth(n) for n in range(3))
    assert not any(event_fields_shown(budgets).values())
    assert all(event_fields_shown(conference).values())
    assert not any(event_fields_shown(closing).values())
    assert budgets.locator("input[name$='-heading']").is_visible()

    # Changing the kind shows or hides them at once.
    budgets.locator("select[name$='-kind']").select_option("event")
    assert all(event_fields_shown(budgets).values())
    conference.locator("select[name$='-kind']").select_option("article")
    assert not any(event_fields_shown(conference).values())

    # A new section is an article: no event fields until it is made an event.
    page.get_by_text("Add another Section").click()
    new = page.locator(NEW_ROWS)
    assert not any(event_fields_shown(new).values())
    new.locator("select[name$='-kind']").select_option("event")
    assert all(event_fields_shown(new).values())
    screenshot(page, "editor-event-fields")

    # Hidden fields are still in the form: the conference, now an article, keeps its venue.
    budgets.locator("input[name$='-venue']").fill("Town Hall")
    page.locator(NEW_ROWS).locator("select[name$='-kind']").select_option("article")
    page.get_by_role("button", name="Save and continue editing").click()
    conference_section = draft.sections.get(heading="Conference")
    assert (conference_section.kind, conference_section.venue) == ("article", "Hereford")
    assert draft.sections.get(heading="Budgets").venue == "Town Hall"


def test_event_fields_on_a_sections_own_page(editor, live_server, draft):
    page = editor
    section = draft.sections.get(heading="Budgets")
    page.goto(f"{live_server.url}/admin/newsletter/section/{section.pk}/change/")
    assert not page.locator("#id_venue").is_visible()
    page.locator("#id_kind").select_option("event")
    assert page.locator("#id_venue").is_visible() and page.locator("#id_booking").is_visible()


def test_without_javascript_every_field_shows(browser, live_server, draft):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 900})
    try:
        log_in_as_editor(context, live_server)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/newsletter/issue/{draft.pk}/change/")
        budgets = page.locator(ROWS).nth(0)
        assert all(event_fields_shown(budgets).values())
    finally:
        context.close()


def test_preview_buttons_keep_their_height_and_counts_stay_in_their_row(editor, live_server, draft):
    page = editor
    open_issue(page, live_server, draft)
    for name in ("intro", "sections-0-body_markdown"):
        area = page.locator(f"textarea[name='{name}']").bounding_box()
        button = page.locator(f"textarea[name='{name}'] ~ .markdown-preview-box button").bounding_box()
        assert button["height"] < 40 < area["height"], (name, button, area)
        assert button["y"] >= area["y"] + area["height"] and abs(button["x"] - area["x"]) <= 2, "Preview: under its box"
    for name in ("subject", "preheader"):
        row = page.locator(f".form-row.field-{name}").bounding_box()
        count = page.locator(f"#id_{name} + .char-count")
        box = count.bounding_box()
        assert count.inner_text().endswith(" characters")
        assert row["x"] <= box["x"] and box["x"] + box["width"] <= row["x"] + row["width"], (name, box, row)
        assert box["height"] < 25, f"the {name} count wraps: {box}"
        label = page.locator(f"label[for='id_{name}']").bounding_box()
        assert label["x"] >= row["x"], f"the {name} label is pushed out of its row"
    screenshot(page, "editor-counts")
