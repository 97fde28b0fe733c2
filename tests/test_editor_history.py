"""The history page: revisions listed, two compared section by section, Restore, and "changed since approved"."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from newsletter.editor.history import compare, word_diff
from newsletter.models import Issue, Revision, revisions
from newsletter.sending import workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser("ed", "ed@example.org", "pw")


@pytest.fixture
def client(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def draft(make_issue, newsletter):
    newsletter.requires_approval = True
    newsletter.save()
    issue = make_issue(
        "Weekly update 31.05.11",
        status=Issue.Status.DRAFT,
        subject="Weekly update 31.05.11",
        sections=[
            {"heading": "Parks", "body_markdown": "New benches in the park.", "links": ["https://example.org/parks"]},
            {"heading": "Libraries", "body_markdown": "Longer opening hours."},
            {"heading": "Buses", "body_markdown": "A new route."},
            {"heading": "And lastly…", "kind": "closing", "body_markdown": "Bye."},
        ],
    )
    revisions.record(issue.pk, fold=False)
    return issue


def move_to_end(issue, heading):
    section = issue.sections.get(heading=heading)
    section.position = 99
    section.save()


def test_changed_words_are_marked_and_escaped():
    old, new = word_diff("New <b> benches in the park.", "New <b> swings in the park.")
    assert "<del>benches</del>" in old and "<ins>swings</ins>" in new
    assert "&lt;b&gt;" in new


def test_a_moved_section_shows_as_moved_not_removed_and_added(draft):
    before = revisions.snapshot(draft)
    move_to_end(draft, "Parks")
    diff = compare(before, revisions.snapshot(draft))
    states = {s["heading"]: s["state"] for s in diff["sections"]}
    assert states["Parks"] == "moved"
    assert states["Libraries"] == states["Buses"] == "unchanged"


def test_added_removed_and_changed_sections_are_told_apart(draft):
    before = revisions.snapshot(draft)
    draft.sections.get(heading="Buses").delete()
    libraries = draft.sections.get(heading="Libraries")
    libraries.body_markdown = "Shorter opening hours."
    libraries.save()
    draft.sections.create(heading="Swimming", position=5, body_markdown="Pool reopens.")
    diff = compare(before, revisions.snapshot(draft))
    states = {s["heading"]: s["state"] for s in diff["sections"]}
    assert states == {"Parks": "unchanged", "Libraries": "changed", "Swimming": "added", "Buses": "removed"} | {
        "And lastly…": "unchanged"
    }
    changed = next(s for s in diff["sections"] if s["heading"] == "Libraries")
    assert "<ins>Shorter</ins>" in changed["rows"][0]["new"]


def test_the_history_page_lists_revisions_and_compares_two(draft, client):
    first = Revision.objects.get(issue=draft)
    move_to_end(draft, "Parks")
    second = revisions.record(draft.pk, fold=False)
    page = client.get(reverse("history:history", args=[draft.pk]), {"a": first.pk, "b": second.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Revision {first.pk} → revision {second.pk}" in html
    assert "revision-section--moved" in html and "from place 1 to place 4" in html


def test_the_history_page_is_behind_the_login_and_refuses_another_issues_revision(draft, make_issue, client):
    url = reverse("history:history", args=[draft.pk])
    assert Client().get(url).status_code == 302
    other = make_issue("Other")
    foreign = revisions.record(other.pk)
    assert client.get(url, {"a": foreign.pk, "b": foreign.pk}).status_code == 404


def test_the_issue_page_and_review_link_to_the_history(draft, client):
    url = reverse("history:history", args=[draft.pk])
    assert url in client.get(reverse("admin:newsletter_issue_change", args=[draft.pk])).content.decode()
    assert url in client.get(reverse("editor:review", args=[draft.pk])).content.decode()


def test_restore_makes_a_new_revision_equal_to_the_old_one_and_keeps_history(
    draft, client, django_capture_on_commit_callbacks
):
    first = Revision.objects.get(issue=draft)
    draft.sections.get(heading="Buses").delete()
    move_to_end(draft, "Parks")
    Issue.objects.filter(pk=draft.pk).update(intro="An intro that was a mistake.")
    revisions.record(draft.pk, fold=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("history:restore", args=[draft.pk, first.pk]))
    assert response.status_code == 302
    restored = Revision.objects.filter(issue=draft).order_by("-id").first()
    assert restored.restored_from == first
    assert Revision.objects.filter(issue=draft).count() == 3

    def content(data):
        return {
            **data,
            "sections": [{k: v for k, v in s.items() if k not in ("id", "parent")} for s in data["sections"]],
        }

    assert content(restored.data) == content(first.data)
    assert [s.heading for s in Issue.objects.get(pk=draft.pk).sections.all()] == [
        "Parks",
        "Libraries",
        "Buses",
        "And lastly…",
    ]


def test_review_shows_what_changed_since_approved_and_sending_needs_the_current_revision_approved(draft, client):
    approver = get_user_model().objects.create_user("approver", is_staff=True)
    approver.user_permissions.add(Permission.objects.get(codename="send_issue"))
    assert Issue.objects.approve(draft.pk, by=approver)
    approved = revisions.approved_revision(draft)
    libraries = draft.sections.get(heading="Libraries")
    libraries.body_markdown = "Shorter opening hours."
    libraries.save()
    html = client.get(reverse("editor:review", args=[draft.pk])).content.decode()
    assert "Changed since approved" in html and f"Against revision {approved.pk}" in html
    assert "<ins>Shorter</ins>" in html
    issue = Issue.objects.get(pk=draft.pk)
    assert workflow.can_send(issue)  # the edit withdrew the approval
    assert Issue.objects.approve(draft.pk, by=approver)
    issue = Issue.objects.get(pk=draft.pk)
    assert workflow.can_send(issue) == []
    assert revisions.approved_revision(issue).pk != approved.pk


def test_sending_is_refused_when_the_content_differs_from_the_approved_revision_even_without_signals(draft):
    approver = get_user_model().objects.create_user("approver", is_staff=True)
    assert Issue.objects.approve(draft.pk, by=approver)
    draft.sections.filter(heading="Parks").update(body_markdown="Changed behind the signals' back.")
    problems = workflow.can_send(Issue.objects.get(pk=draft.pk))
    assert any("changed since it was approved" in p for p in problems)
