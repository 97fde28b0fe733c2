"""Editors can browse and correct imported issues in the admin."""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from newsletter.models import Comment, Issue, Link, Newsletter, Section, Subscriber, Subscription, Tag

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    call_command("import_seeds", str(SEEDS / "002_d9b6d64c7e93d693.txt"), str(SEEDS / "003_f5898a36ffc72505.txt"),
                 stdout=StringIO())  # fmt: skip


def test_create_editor_prints_a_password_once_and_never_again():
    first, second = StringIO(), StringIO()
    call_command("create_editor", stdout=first)
    call_command("create_editor", stdout=second)
    assert "password: " in first.getvalue()
    assert "password: " not in second.getvalue() and "changepassword" in second.getvalue()
    user = get_user_model().objects.get(username="editor")
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("newsletter.change_issue")


@pytest.mark.parametrize("model", [Newsletter, Issue, Section, Link, Comment, Subscriber, Subscription, Tag])
def test_every_model_has_a_working_changelist_with_search(editor_client, imported, model):
    url = reverse(f"admin:newsletter_{model._meta.model_name}_changelist")
    response = editor_client.get(url, {"q": "community"})
    assert response.status_code == 200


def test_issue_page_shows_its_sections_in_order(editor_client, imported):
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    response = editor_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    first = page.index("Community Budgets round up of meeting and events")
    digest = page.index("BWB weekly update of government websites")
    closing = page.index("Big, local and app-solutely fabulous!")
    assert first < digest < closing


def test_saving_an_imported_issue_marks_it_edited(editor_client, imported):
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    url = reverse("admin:newsletter_issue_change", args=[issue.pk])
    form = editor_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    data.update(title="Weekly update 24 May", newsletter=issue.newsletter_id)
    for formset in editor_client.get(url).context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{formset.formset.prefix}-{name}"] = management.initial.get(name, field.initial)
        data[f"{formset.formset.prefix}-TOTAL_FORMS"] = 0
        data[f"{formset.formset.prefix}-INITIAL_FORMS"] = 0
    data["issue_date"] = "24/05/2011"
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    issue.refresh_from_db()
    assert issue.title == "Weekly update 24 May" and issue.edited_in_admin


def test_an_editor_can_hide_a_reader_comment(editor_client, imported):
    comment = Comment.objects.first()
    response = editor_client.post(
        reverse("admin:newsletter_comment_changelist"),
        {"action": "hide", "_selected_action": [comment.pk]},
    )
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.hidden
    assert comment not in Comment.objects.visible()


def test_copy_into_draft_action_opens_the_new_draft(editor_client, imported):
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    response = editor_client.post(
        reverse("admin:newsletter_issue_changelist"),
        {"action": "copy_into_draft", "_selected_action": [issue.pk]},
    )
    draft = Issue.objects.get(status="draft")
    assert response.status_code == 302 and response.url == reverse("admin:newsletter_issue_change", args=[draft.pk])
    assert draft.sections.count() == issue.sections.count()
