"""Review and send: previews from the real rendering, the pre-send check, test sends, schedule, send, approval."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue, Subscriber, Subscription

pytestmark = pytest.mark.django_db


def login(client, username, can_send=True):
    out = StringIO()
    call_command("create_editor", "--username", username, "--email", f"{username}@example.org", stdout=out)
    user = get_user_model().objects.get(username=username)
    if not can_send:
        user.groups.clear()
        user.user_permissions.set(Permission.objects.filter(codename__in=["view_issue", "change_issue"]))
    assert client.login(username=username, password=out.getvalue().split("password: ")[1].split()[0])
    return user


@pytest.fixture
def draft(make_issue, newsletter):
    newsletter.sender_email = "news@example.org"
    newsletter.save()
    for n in range(3):
        Subscription.objects.create(
            subscriber=Subscriber.objects.create(email=f"reader{n}@example.org"), newsletter=newsletter, status="active"
        )
    return make_issue(
        "Weekly update 31.05.11",
        status="draft",
        sections=[
            {"heading": "Parks", "body_markdown": "New benches. [Click here](https://example.org/parks)"},
            {"heading": "Budget", "body_markdown": "Councils get money.\n\nRead the full article."},
        ],
    )


def test_review_page_shows_previews_and_the_pre_send_findings_by_section(client, draft):
    login(client, "ed")
    page = client.get(reverse("editor:review", args=[draft.pk])).content.decode()
    assert "3 active subscribers" in page
    assert "<strong>Parks:</strong> The link “Click here” does not say where it goes." in page
    assert "<strong>Budget:</strong> “Read the full article.” points to a link that is not there." in page
    assert "Links have not been checked yet" in page
    assert reverse("editor:email_preview", args=[draft.pk]) in page
    assert "New benches." in page  # the plain-text part, shown as text


def test_email_preview_is_the_rendered_email_in_a_locked_down_frame(client, draft):
    login(client, "ed")
    response = client.get(reverse("editor:email_preview", args=[draft.pk]))
    body = response.content.decode()
    assert "Weekly update 31.05.11" in body and "Hello ed," in body
    assert "%%" not in body  # every placeholder filled
    assert "sandbox" in response["Content-Security-Policy"] and "script-src" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_web_preview_shows_a_draft_that_the_archive_hides(client, draft):
    assert client.get(draft.get_absolute_url()).status_code == 404
    login(client, "ed")
    assert b"New benches" in client.get(reverse("editor:web_preview", args=[draft.pk])).content


def test_send_test_mails_the_editor_and_touches_no_delivery(client, draft, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    login(client, "ed")
    client.post(reverse("editor:send_test", args=[draft.pk]), {"addresses": "ed@example.org, boss@example.org"})
    assert sorted(m.to[0] for m in mail.outbox) == ["boss@example.org", "ed@example.org"]
    assert mail.outbox[0].subject.startswith("[Test]")
    assert draft.deliveries.count() == 0
    assert Issue.objects.get(pk=draft.pk).status == "draft"


def test_a_bad_test_address_is_refused(client, draft, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    login(client, "ed")
    response = client.post(reverse("editor:send_test", args=[draft.pk]), {"addresses": "not an address"}, follow=True)
    assert "Enter a valid email address" in response.content.decode()
    assert mail.outbox == []


def test_schedule_then_cancel_returns_the_issue_to_draft(client, draft):
    login(client, "ed")
    when = timezone.localtime() + datetime.timedelta(days=2)
    client.post(reverse("editor:schedule", args=[draft.pk]), {"when": when.strftime("%Y-%m-%dT%H:%M")})
    draft.refresh_from_db()
    assert draft.status == "scheduled" and abs(draft.scheduled_for - when) < datetime.timedelta(minutes=1)
    client.post(reverse("editor:cancel_schedule", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.scheduled_for is None


def test_send_now_confirms_the_count_then_sends_and_records_who(client, draft):
    user = login(client, "ed")
    confirm = client.get(reverse("editor:send_now", args=[draft.pk])).content.decode()
    assert "3 subscribers" in confirm
    client.post(reverse("editor:send_now", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status in ("sending", "sent") and draft.send_started_by == user
    assert draft.sent_html  # what was mailed is frozen on the issue


def test_editors_without_the_send_permission_cannot_send_or_schedule(client, draft):
    login(client, "junior", can_send=False)
    assert client.post(reverse("editor:send_now", args=[draft.pk])).status_code == 403
    assert client.post(reverse("editor:schedule", args=[draft.pk]), {"when": "2030-01-01T09:00"}).status_code == 403
    page = client.get(reverse("editor:review", args=[draft.pk])).content.decode()
    assert "Send now" not in page
    assert Issue.objects.get(pk=draft.pk).status == "draft"


def test_approval_needs_a_second_editor(client, draft, newsletter):
    newsletter.requires_approval = True
    newsletter.save()
    login(client, "ed")
    assert "needs a second editor" in client.get(reverse("editor:send_now", args=[draft.pk])).content.decode()
    client.post(reverse("editor:approve", args=[draft.pk]))
    assert (
        "a second editor must be the one to send it"
        in client.get(reverse("editor:send_now", args=[draft.pk])).content.decode()
    )
    client.logout()
    login(client, "colleague")
    client.post(reverse("editor:send_now", args=[draft.pk]))
    assert Issue.objects.get(pk=draft.pk).status in ("sending", "sent")


def test_imported_issues_offer_no_send(client, make_issue):
    imported = make_issue("Old", status="imported")
    login(client, "ed")
    page = client.get(reverse("editor:review", args=[imported.pk])).content.decode()
    assert "never sent" in page and "Send now…" not in page


def test_markdown_preview_is_sanitised_and_explains_refusals(client):
    login(client, "ed")
    response = client.post(reverse("editor:markdown_preview"), {"text": "**Hi** <script>alert(1)</script>"})
    body = response.content.decode()
    assert "<strong>Hi</strong>" in body and "<script" not in body
    assert "&lt;script&gt; elements are not allowed" in body
