"""Composing in the admin: unsafe Markdown refused, order kept, sent issues locked, next week's draft."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue, Section

pytestmark = pytest.mark.django_db


def form_data(response):
    """The change form's current values, as a browser would post them back."""
    data = {}
    for form in [response.context["adminform"].form] + [
        f for fs in response.context["inline_admin_formsets"] for f in fs.formset.forms
    ]:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or name == "tags":
                continue
            if field.widget.__class__.__name__ == "CheckboxInput":
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = value
    for fs in response.context["inline_admin_formsets"]:
        management = fs.formset.management_form
        for name in management.fields:
            data[f"{fs.formset.prefix}-{name}"] = management[name].value()
    return data


@pytest.fixture
def draft(make_issue):
    return make_issue(
        "Weekly update 01.06.11",
        status="draft",
        issue_date="2011-06-01",
        sections=[{"heading": "First", "body_markdown": "One"}, {"heading": "Second", "body_markdown": "Two"}],
    )


def test_script_in_a_section_is_refused_with_a_message_on_the_field(editor_client, draft):
    url = reverse("admin:newsletter_issue_change", args=[draft.pk])
    data = form_data(editor_client.get(url))
    data["sections-0-body_markdown"] = "Hello <script>alert(1)</script>"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "<script> elements are not allowed" in errors["body_markdown"][0]
    assert Section.objects.get(issue=draft, heading="First").body_markdown == "One"


def test_javascript_links_in_the_intro_are_refused(editor_client, draft):
    url = reverse("admin:newsletter_issue_change", args=[draft.pk])
    data = form_data(editor_client.get(url))
    data["intro"] = "[Click](javascript:alert(1))"
    response = editor_client.post(url, data)
    assert "not “javascript:”" in response.context["adminform"].form.errors["intro"][0]


def test_new_section_order_is_saved(editor_client, draft):
    url = reverse("admin:newsletter_issue_change", args=[draft.pk])
    data = form_data(editor_client.get(url))
    data["sections-0-position"], data["sections-1-position"] = "2", "1"
    response = editor_client.post(url, data)
    assert response.status_code == 302
    assert list(draft.sections.values_list("heading", flat=True)) == ["Second", "First"]


def test_a_sent_issue_is_locked_but_its_web_page_can_be_corrected(editor_client, draft, client):
    mailed = "<p>What subscribers got</p>"
    Issue.objects.filter(pk=draft.pk).update(
        status="sent", sent_html=mailed, sent_at=timezone.now() - datetime.timedelta(days=2)
    )
    url = reverse("admin:newsletter_issue_change", args=[draft.pk])
    response = editor_client.get(url)
    assert "title" not in response.context["adminform"].form.fields
    data = form_data(response)
    data["sections-0-body_markdown"] = "One, corrected"
    assert editor_client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.sent_html == mailed  # the mailed copy never changes
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "One, corrected" in page and "Updated" in page


def test_sections_are_read_only_while_an_issue_sends(editor_client, draft):
    Issue.objects.filter(pk=draft.pk).update(status="sending")
    response = editor_client.get(reverse("admin:newsletter_issue_change", args=[draft.pk]))
    section_formset = response.context["inline_admin_formsets"][0]
    assert not section_formset.has_change_permission and not section_formset.has_add_permission


def test_editing_an_approved_issue_asks_for_a_new_approval(editor_client, draft):
    Issue.objects.filter(pk=draft.pk).update(approved_at=timezone.now())
    url = reverse("admin:newsletter_issue_change", args=[draft.pk])
    data = form_data(editor_client.get(url))
    data["sections-0-body_markdown"] = "One, changed after approval"
    editor_client.post(url, data)
    draft.refresh_from_db()
    assert draft.approved_at is None


def test_start_next_week_action_opens_the_new_draft(editor_client, draft):
    response = editor_client.post(
        reverse("admin:newsletter_issue_changelist"), {"action": "start_next_week", "_selected_action": [draft.pk]}
    )
    new = Issue.objects.get(title="Weekly update 08.06.11")
    assert response.url == reverse("admin:newsletter_issue_change", args=[new.pk])


def test_the_editor_page_loads_its_script_for_move_buttons_and_counts(editor_client, draft):
    response = editor_client.get(reverse("admin:newsletter_issue_change", args=[draft.pk]))
    assert "newsletter/editor.js" in response.content.decode()
