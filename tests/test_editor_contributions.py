"""Colleagues suggest items; the editor accepts one into the current draft or declines it."""

import datetime

import pytest
from django.urls import reverse

from newsletter.editor.weekly import start_next_issue
from newsletter.models import Contribution, Issue

pytestmark = pytest.mark.django_db

SUGGESTION = {
    "title": "New play area in Hythe",
    "url": "https://example.org/hythe",
    "summary": "The park reopens with a new play area.",
    "contact_name": "Sam Clerk",
    "contact_email": "sam@example.org",
}


def test_a_colleague_suggests_an_item_and_it_lands_in_the_inbox(client, newsletter):
    response = client.post(reverse("archive:contribute", args=[newsletter.slug]), SUGGESTION)
    assert response.status_code == 200 and b"Thank you" in response.content
    contribution = Contribution.objects.get()
    assert (contribution.title, contribution.status, contribution.newsletter) == (
        "New play area in Hythe", "new", newsletter,
    )  # fmt: skip


def test_the_honeypot_thanks_a_bot_and_stores_nothing(client, newsletter):
    response = client.post(reverse("archive:contribute", args=[newsletter.slug]), {**SUGGESTION, "website": "x"})
    assert b"Thank you" in response.content
    assert not Contribution.objects.exists()


def test_suggestions_are_rate_limited_per_client(client, newsletter, settings):
    settings.CONTRIBUTIONS_PER_HOUR = 2
    url = reverse("archive:contribute", args=[newsletter.slug])
    codes = [client.post(url, SUGGESTION, REMOTE_ADDR="203.0.113.9").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert Contribution.objects.count() == 2


def test_unsafe_markdown_in_a_suggestion_is_refused(client, newsletter):
    response = client.post(
        reverse("archive:contribute", args=[newsletter.slug]), {**SUGGESTION, "summary": "<script>x</script>"}
    )
    assert b"not allowed" in response.content
    assert not Contribution.objects.exists()


def test_editor_accepts_a_suggestion_into_the_draft_before_the_closing_section(editor_client, make_issue, newsletter):
    last = make_issue("Weekly update 24.05.11", issue_date=datetime.date(2011, 5, 24), sections=[
        {"heading": "And lastly", "kind": "closing", "body_markdown": "x"},
    ])  # fmt: skip
    draft = start_next_issue(last)
    contribution = Contribution.objects.create(newsletter=newsletter, **SUGGESTION)
    response = editor_client.post(
        reverse("admin:newsletter_contribution_changelist"),
        {"action": "accept_into_draft", "_selected_action": [contribution.pk]},
    )
    assert response.status_code == 302
    sections = list(draft.sections.values_list("heading", "kind"))
    assert sections == [("New play area in Hythe", "article"), ("And lastly…", "closing")]
    added = draft.sections.get(heading="New play area in Hythe")
    assert added.links.get().url == "https://example.org/hythe" and added.source == "Suggested by Sam Clerk"
    contribution.refresh_from_db()
    assert contribution.status == "accepted" and contribution.section == added


def test_accepting_without_a_draft_says_so(editor_client, newsletter):
    contribution = Contribution.objects.create(newsletter=newsletter, **SUGGESTION)
    response = editor_client.post(
        reverse("admin:newsletter_contribution_changelist"),
        {"action": "accept_into_draft", "_selected_action": [contribution.pk]},
        follow=True,
    )
    assert "has no draft" in response.content.decode()
    assert Contribution.objects.get().status == "new"
    assert not Issue.objects.filter(status="draft").exists()


def test_editor_declines_a_suggestion(editor_client, newsletter):
    contribution = Contribution.objects.create(newsletter=newsletter, **SUGGESTION)
    editor_client.post(
        reverse("admin:newsletter_contribution_changelist"),
        {"action": "decline_selected", "_selected_action": [contribution.pk]},
    )
    assert Contribution.objects.get().status == "declined"
