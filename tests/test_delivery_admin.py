"""Sending from the admin: "Send now…" opens the one confirmation screen (editor:send_now), which states the
audience; live progress, pause/resume/retry."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.urls import reverse

from newsletter.models import Delivery, Issue, Subscriber, Subscription

CHANGELIST = "admin:newsletter_issue_changelist"


@pytest.fixture
def readers(newsletter):
    for n in range(3):
        person = Subscriber.objects.create(email=f"r{n}@example.com")
        Subscription.objects.create(subscriber=person, newsletter=newsletter, status="active")


@pytest.fixture
def draft(rich_issue):
    return rich_issue.copy_as_draft()


def action(client, name, issues, **extra):
    data = {"action": name, "_selected_action": [i.pk for i in issues], **extra}
    return client.post(reverse(CHANGELIST), data)


def send_now(client, issue):
    """The admin action, then "Yes, send" on the confirmation screen it opens."""
    screen = action(client, "send_now", [issue])
    assert screen.url == reverse("editor:send_now", args=[issue.pk])
    return client.post(screen.url)


def test_send_now_asks_first_and_says_how_many_will_receive_it(admin_client, draft, readers, parse_html):
    response = admin_client.get(action(admin_client, "send_now", [draft]).url)

    assert response.status_code == 200
    assert parse_html(response).find("strong", class_="recipient-count").text == "3 subscribers"
    assert parse_html(response).find("input", type="submit")  # "Yes, send", which an imported issue does not get
    assert not Delivery.objects.exists() and not mail.outbox


def test_confirming_sends_one_copy_to_each(admin_client, draft, readers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send_now(admin_client, draft)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Issue.Status.SENT and len(mail.outbox) == 3
    assert draft.send_started_by.username == "admin"


def test_imported_issues_cannot_be_sent_from_the_admin(admin_client, rich_issue, readers, parse_html):
    response = admin_client.get(action(admin_client, "send_now", [rich_issue]).url)
    assert "Imported issues are part of the archive" in parse_html(response).text
    assert not parse_html(response).find("input", type="submit")


def test_only_editors_with_the_send_permission_see_the_send_actions(client, draft):
    editor = User.objects.create_user("ed", password="x", is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_issue", "change_issue"]))
    client.force_login(editor)
    names = lambda: [o[0] for o in client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices]  # noqa: E731
    assert "send_now" not in names()
    editor.user_permissions.add(Permission.objects.get(codename="send_issue"))
    editor = User.objects.get(pk=editor.pk)
    client.force_login(editor)
    assert {"send_now", "pause_sending", "resume_sending", "retry_failed_deliveries"} <= set(names())


def test_progress_is_shown_on_the_issue_and_served_as_json(
    admin_client, draft, readers, django_capture_on_commit_callbacks, parse_html
):
    with django_capture_on_commit_callbacks(execute=True):
        send_now(admin_client, draft)

    page = parse_html(admin_client.get(reverse("admin:newsletter_issue_change", args=[draft.pk])))
    shown = page.find("span", class_="delivery-progress")
    assert "3 total · 3 sent · 0 failed · 0 pending" in shown.text
    data = admin_client.get(shown.attrs["data-url"]).json()
    assert data | {"rate": 0} == {
        "total": 3, "sent": 3, "failed": 0, "skipped": 0, "pending": 0, "rate": 0, "status": "sent",
        "status_label": "Sent",
    }  # fmt: skip
    assert page.find("script", src=lambda: True) is None or "admin-progress.js" in str(page.find_all("script"))


def test_pause_resume_and_retry_failed_from_the_list(admin_client, draft, readers, django_capture_on_commit_callbacks):
    Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENDING)
    action(admin_client, "pause_sending", [draft])
    draft.refresh_from_db()
    assert draft.status == Issue.Status.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_client, "resume_sending", [draft])
    draft.refresh_from_db()
    assert draft.status == Issue.Status.SENT and len(mail.outbox) == 3

    Delivery.objects.filter(issue=draft).update(status="failed", last_error="550 no such user")
    with django_capture_on_commit_callbacks(execute=True):
        action(admin_client, "retry_failed_deliveries", [draft])
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert len(mail.outbox) == 6


def test_the_delivery_list_is_read_only(admin_client):
    assert admin_client.get(reverse("admin:newsletter_delivery_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:newsletter_delivery_add")).status_code == 403
