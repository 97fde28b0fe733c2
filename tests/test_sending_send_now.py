"""One "Send now" screen (editor:send_now) and one permission (Issue.SEND_PERMISSION) for every door that sends."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from newsletter.models import Delivery, Issue, Subscriber, Subscription

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:newsletter_issue_changelist"


@pytest.fixture
def draft(make_issue, newsletter):
    for n in range(2):
        Subscription.objects.create(
            subscriber=Subscriber.objects.create(email=f"reader{n}@example.org"), newsletter=newsletter, status="active"
        )
    return make_issue("Weekly update 31.05.11", status="draft", sections=[{"heading": "Parks", "body_markdown": "Hi."}])


def choose(client, action, issues):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [i.pk for i in issues]})


def test_the_admin_send_now_action_opens_the_one_confirmation_screen(admin_client, draft):
    response = choose(admin_client, "send_now", [draft])

    assert response.status_code == 302
    assert response.url == reverse("editor:send_now", args=[draft.pk])
    assert Issue.objects.get(pk=draft.pk).status == Issue.Status.DRAFT and not Delivery.objects.exists()


def test_the_old_confirm_post_to_the_issue_list_no_longer_sends_by_itself(admin_client, draft):
    data = {"action": "send_now", "_selected_action": [draft.pk], "confirm": "yes"}

    response = admin_client.post(reverse(CHANGELIST), data)

    assert response.url == reverse("editor:send_now", args=[draft.pk])
    assert Issue.objects.get(pk=draft.pk).status == Issue.Status.DRAFT and not mail.outbox


def test_choosing_several_issues_to_send_asks_for_one(admin_client, draft, make_issue):
    other = make_issue("Another", status="draft")

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "send_now", "_selected_action": [draft.pk, other.pk]}, follow=True
    )

    assert "Choose one issue to send at a time." in response.content.decode()
    assert set(Issue.objects.values_list("status", flat=True)) == {Issue.Status.DRAFT}


def test_the_confirmation_says_how_many_and_warns_when_gmail_would_clip_it(admin_client, draft, monkeypatch):
    url = reverse("editor:send_now", args=[draft.pk])
    assert "Gmail clips" not in admin_client.get(url).content.decode()  # a small issue
    monkeypatch.setattr("newsletter.rendering.HTML_SIZE_WARNING", 1024)

    page = admin_client.get(url).content.decode()

    assert '<strong class="recipient-count">2 subscribers</strong>' in page
    assert "Gmail clips messages" in page and "[Message clipped]" in page


def test_one_permission_guards_the_action_the_screen_and_the_review_buttons(client, draft):
    assert Issue.SEND_PERMISSION == "newsletter.send_issue"
    app_label, codename = Issue.SEND_PERMISSION.split(".")
    editor = get_user_model().objects.create_user("ed", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_issue", "change_issue"]))
    client.force_login(editor)
    actions = lambda: [c[0] for c in client.get(reverse(CHANGELIST)).context["action_form"].fields["action"].choices]  # noqa: E731

    assert "send_now" not in actions()
    assert client.get(reverse("editor:send_now", args=[draft.pk])).status_code == 403
    assert "Send now…" not in client.get(reverse("editor:review", args=[draft.pk])).content.decode()

    editor.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(get_user_model().objects.get(pk=editor.pk))

    assert "send_now" in actions()
    assert client.get(reverse("editor:send_now", args=[draft.pk])).status_code == 200
    assert "Send now…" in client.get(reverse("editor:review", args=[draft.pk])).content.decode()
