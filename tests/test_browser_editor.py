"""An editor's week, in a real headless Chromium: next week's draft, compose, reorder, preview, test, schedule."""

import email
from email import policy
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletter.models import Contribution, Issue, Subscriber, Subscription
from tests.conftest import screenshot

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def editor(live_server, page, settings, tmp_path):
    settings.EMAIL_BACKEND = "newsletter.mail.outbox.OutboxBackend"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.SITE_URL = live_server.url
    call_command("import_seeds", str(SEEDS / "002_d9b6d64c7e93d693.txt"), stdout=StringIO())
    newsletter = Issue.objects.get(title="Weekly update 24.05.11").newsletter
    for n in range(3):
        Subscription.objects.create(
            subscriber=Subscriber.objects.create(email=f"reader{n}@example.org"), newsletter=newsletter, status="active"
        )
    out = StringIO()
    call_command("create_editor", "--email", "editor@example.org", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    return page


def outbox_messages(settings):
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(Path(settings.OUTBOX_DIR).glob("*.eml"))
    ]


def test_editor_composes_next_weeks_issue_previews_tests_and_schedules_it(editor, live_server, settings):
    page = editor
    # Start next week's issue from last week's.
    page.goto(f"{live_server.url}/admin/newsletter/issue/?q=24.05.11")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("start_next_week")
    page.get_by_role("button", name="Go").click()
    draft = Issue.objects.get(title="Weekly update 31.05.11")
    assert page.url.endswith(f"/admin/newsletter/issue/{draft.pk}/change/")
    assert "Started “Weekly update 31.05.11”, dated" in page.locator(".messagelist").inner_text()
    assert page.locator("#id_title").input_value() == "Weekly update 31.05.11"

    # A colleague's suggestion, accepted from the inbox into this draft.
    page.goto(f"{live_server.url}/contribute/{draft.newsletter.slug}/")
    page.get_by_label("Title").fill("New play area in Hythe")
    page.get_by_label("Summary").fill("The park reopens on Saturday with a new play area.")
    page.get_by_label("Your email").fill("sam@example.org")
    page.get_by_role("button", name="Send suggestion").click()
    assert "Thank you" in page.content()
    page.goto(f"{live_server.url}/admin/newsletter/contribution/")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("accept_into_draft")
    page.get_by_role("button", name="Go").click()
    assert Contribution.objects.get().status == "accepted"

    # Compose: two more articles; each new section goes before “And lastly…”.
    page.goto(f"{live_server.url}/admin/newsletter/issue/{draft.pk}/change/")
    for heading, body in [("Library hours", "Open until 8pm."), ("Roadworks", "The A20 closes on Sunday.")]:
        page.get_by_text("Add another Section").click()
        form = page.locator("#sections-group .inline-related:not(.empty-form):not(.has_original)").last
        form.locator("input[name$='-heading']").fill(heading)
        form.locator("textarea[name$='-body_markdown']").fill(body)
    page.get_by_role("button", name="Save and continue editing").click()
    headings = list(draft.sections.filter(parent=None).values_list("heading", flat=True))
    assert headings[-3:] == ["Library hours", "Roadworks", "And lastly…"]
    screenshot(page, "editor-issue")

    # Reorder with the keyboard-accessible buttons: Roadworks moves above Library hours.
    roadworks = page.locator(".inline-related").filter(has=page.locator("input[value='Roadworks']"))
    roadworks.get_by_role("button", name="Move up").click()
    page.get_by_role("button", name="Save and continue editing").click()
    headings = list(draft.sections.order_by("position").values_list("heading", flat=True))
    assert headings.index("Roadworks") < headings.index("Library hours")

    # Preview as readers will see it.
    page.goto(f"{live_server.url}/admin/editor/issue/{draft.pk}/review/")
    email_frame = page.frame_locator("#panel-email iframe")
    assert "Roadworks" in email_frame.locator("body").inner_text()
    screenshot(page, "editor-preview")

    # A test copy to the editor, read back from the outbox.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Send test").press("Enter")  # as a keyboard user would
    page.wait_for_selector(".messagelist")
    (test_copy,) = outbox_messages(settings)
    assert test_copy["To"] == "editor@example.org" and test_copy["Subject"].startswith("[Test]")
    assert "Roadworks" in test_copy.get_body(("plain",)).get_content()
    assert draft.deliveries.count() == 0

    # Schedule it for next week.
    page.get_by_label("Send at").fill("2031-05-31T08:00")
    page.get_by_role("button", name="Schedule…").press("Enter")
    page.wait_for_selector(".messagelist")
    assert "Scheduled for" in page.content()
    draft.refresh_from_db()
    assert draft.status == "scheduled"
    assert page.get_by_role("button", name="Cancel schedule").is_visible()

    # The other previews: at phone width, the plain-text part, the web page.
    page.get_by_role("tab", name="Email on a phone").click()
    assert page.locator("#panel-phone iframe").bounding_box()["width"] <= 380
    page.get_by_role("tab", name="Plain text").click()
    assert "The A20 closes on Sunday." in page.locator("#panel-text").inner_text()
    page.get_by_role("tab", name="Web page").click()
    assert "Library hours" in page.frame_locator("#panel-web iframe").locator("main").inner_text()
