"""An approval is for the content approved: any change to a draft's content, by any door, withdraws it."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from newsletter.editor import contributions
from newsletter.models import Contribution, Issue, Link, Section
from newsletter.sending import workflow

pytestmark = pytest.mark.django_db

APPROVAL_NEEDED = "This newsletter needs a second editor to approve each issue before it is sent."


@pytest.fixture
def approver():
    user = get_user_model().objects.create_user("approver", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="send_issue"))
    return user


def approve(issue, user):
    """Approve as the editor does: the Approve button on the review page."""
    client = Client()
    client.force_login(user)
    assert client.post(reverse("editor:approve", args=[issue.pk])).status_code == 302


@pytest.fixture
def sender():
    return get_user_model().objects.create_user("sender", is_staff=True)


@pytest.fixture
def draft(make_issue, newsletter):
    newsletter.requires_approval = True
    newsletter.save()
    return make_issue(
        "Weekly update 31.05.11",
        status=Issue.Status.DRAFT,
        subject="Weekly update 31.05.11",
        sections=[
            {"heading": "Parks", "body_markdown": "New benches.", "links": ["https://example.org/parks"]},
            {"heading": "And lastly…", "kind": "closing", "body_markdown": "Bye."},
        ],
    )


@pytest.fixture
def approved(draft, approver, sender):
    approve(draft, approver)
    issue = Issue.objects.get(pk=draft.pk)
    assert workflow.can_send(issue, sender) == []
    return issue


def fresh(issue):
    return Issue.objects.select_related("newsletter").get(pk=issue.pk)


def test_a_contribution_accepted_into_an_approved_draft_needs_approval_again(approved, newsletter, sender):
    suggestion = Contribution.objects.create(
        newsletter=newsletter, title="New play area", summary="The park reopens.", contact_name="Sam"
    )

    contributions.accept(suggestion)

    issue = fresh(approved)
    assert issue.approved_at is None and issue.approved_by is None
    assert APPROVAL_NEEDED in workflow.can_send(issue, sender)
    with pytest.raises(workflow.SendError):
        workflow.start_send(issue, user=sender)


def test_a_section_edited_on_its_own_admin_page_resets_approval(approved, admin_client):
    section = approved.sections.get(heading="Parks")
    url = reverse("admin:newsletter_section_change", args=[section.pk])
    data = {
        "issue": approved.pk,
        "position": section.position,
        "kind": section.kind,
        "heading": "Parks",
        "body_markdown": "New benches, and a bandstand.",
        **{f"{prefix}-{n}": v for prefix in ("links", "images") for n, v in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))},
    }

    assert admin_client.post(url, data).status_code == 302

    assert fresh(approved).approved_at is None


def test_a_change_to_the_subject_withdraws_the_approval_but_saving_bookkeeping_does_not(approved):
    approved.edited_in_admin = True
    approved.save()
    assert fresh(approved).approved_at is not None

    approved.subject = "A better subject"
    approved.save()

    assert fresh(approved).approved_at is None
    assert approved.approved_at is None  # the instance knows too


def test_a_link_added_or_removed_withdraws_the_approval_but_the_link_check_does_not(approved, approver):
    section = approved.sections.get(heading="Parks")
    checked = Link.objects.get(section=section)
    checked.check_status = 200
    checked.save(update_fields=["check_status", "check_error", "checked_at"])
    assert fresh(approved).approved_at is not None

    Link.objects.create(section=section, url="https://example.org/more", position=2)
    assert fresh(approved).approved_at is None

    approve(approved, approver)
    Link.objects.get(section=section, position=2).delete()
    assert fresh(approved).approved_at is None


def test_a_removed_section_or_a_new_tag_withdraws_the_approval(approved, approver):
    Section.objects.get(issue=approved, heading="Parks").delete()
    assert fresh(approved).approved_at is None

    approve(approved, approver)
    approved.tags.create(name="Parks", slug="parks")
    assert fresh(approved).approved_at is None


def test_sending_is_not_an_edit_and_a_sent_issue_keeps_the_record_of_its_approval(
    approved, approver, sender, django_capture_on_commit_callbacks
):
    approved.preheader = "Changed after the approval."
    approved.save()
    assert APPROVAL_NEEDED in workflow.can_send(fresh(approved), sender)
    approve(approved, approver)

    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_send(fresh(approved), user=sender)

    issue = fresh(approved)
    assert issue.status == Issue.Status.SENT and issue.approved_by == approver
    section = issue.sections.get(heading="Parks")
    section.body_markdown = "Corrected on the web page."
    section.save()
    assert fresh(issue).approved_by == approver


def test_the_review_page_shows_changed_since_approved(approved, editor_client):
    review = reverse("editor:review", args=[approved.pk])
    assert "changed since approved" not in editor_client.get(review).content.decode()

    section = approved.sections.get(heading="Parks")
    section.body_markdown = "Changed after the approval."
    section.save()

    page = editor_client.get(review).content.decode()
    assert "changed since approved" in page
    assert "It changed since it was approved, so it needs approving again." in page


def test_a_new_approval_clears_changed_since_approved(approved, approver, editor_client):
    approved.intro = "A new introduction."
    approved.save()
    approve(approved, approver)

    issue = fresh(approved)
    assert issue.approved_at is not None and issue.approval_withdrawn_at is None
    assert "changed since approved" not in editor_client.get(reverse("editor:review", args=[issue.pk])).content.decode()


def test_only_a_draft_or_scheduled_issue_can_be_approved(make_issue, approver):
    imported = make_issue("Old", status=Issue.Status.IMPORTED)

    imported.newsletter.requires_approval = True
    imported.newsletter.save()

    approve(imported, approver)

    assert fresh(imported).approved_at is None
