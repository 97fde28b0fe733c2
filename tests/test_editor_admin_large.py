"""A long issue (a busy week, a big digest) saves from the admin like a short one."""

import pytest
from django.urls import reverse

from tests.test_editor_admin import form_data

pytestmark = pytest.mark.django_db


def test_an_issue_with_a_hundred_and_twenty_sections_saves(editor_client, make_issue):
    issue = make_issue(
        "Weekly update 01.06.11",
        status="draft",
        sections=[{"heading": f"Item {n}", "body_markdown": f"Text {n}"} for n in range(120)],
    )
    url = reverse("admin:newsletter_issue_change", args=[issue.pk])
    data = form_data(editor_client.get(url))
    data["sections-0-body_markdown"] = "Changed"
    assert len(data) > 1000  # more fields than Django accepts by default

    response = editor_client.post(url, data)

    assert response.status_code == 302
    assert issue.sections.get(heading="Item 0").body_markdown == "Changed"
