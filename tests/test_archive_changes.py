"""The archive shows readers what changed on a corrected issue since it was mailed (issue 14, revision history)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue, Section

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed(make_issue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issue = make_issue(
            "Weekly update 31.05.11",
            status=Issue.Status.DRAFT,
            sections=[
                {"heading": "Parks", "body_markdown": "New benches in the park."},
                {"heading": "Budgets", "body_markdown": "Unchanged text."},
            ],
        )
    assert Issue.objects.move(issue.pk, Issue.Status.DRAFT, Issue.Status.SENDING)  # marks the sent revision
    sent = timezone.now() - datetime.timedelta(days=2)
    assert Issue.objects.move(issue.pk, Issue.Status.SENDING, Issue.Status.SENT, sent_at=sent)
    return Issue.objects.get(pk=issue.pk)


def correct(issue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        section = Section.objects.get(issue=issue, heading="Parks")
        section.body_markdown = "New benches in the town park."
        section.save()
    issue.refresh_from_db()
    return issue


def test_a_corrected_issue_links_to_what_changed_and_shows_the_changed_words(
    client, mailed, django_capture_on_commit_callbacks
):
    issue = correct(mailed, django_capture_on_commit_callbacks)
    changes = reverse("archive:issue_changes", args=[issue.newsletter.slug, issue.slug])

    page = client.get(issue.get_absolute_url()).content.decode()
    assert "Updated" in page and f'href="{changes}"' in page

    page = client.get(changes).content.decode()
    assert "Parks: changed" in page and "<ins>town </ins>" in page
    assert "Budgets" not in page  # unchanged sections are not listed
    assert "Topics" not in page and "Kind" not in page


def test_an_issue_unchanged_since_mailing_says_so(client, mailed):
    page = client.get(reverse("archive:issue_changes", args=[mailed.newsletter.slug, mailed.slug])).content.decode()

    assert "Nothing readers see has changed" in page


def test_an_issue_never_mailed_has_no_changes_page(client, make_issue):
    issue = make_issue("Imported one")

    assert client.get(reverse("archive:issue_changes", args=[issue.newsletter.slug, issue.slug])).status_code == 404
