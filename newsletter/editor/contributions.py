"""The contributions inbox: colleagues suggest items; the editor accepts one into the current draft or declines it."""

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from newsletter.models import Contribution, Issue, Link, Section


class NoDraft(Exception):
    """There is no draft to put the item in."""


def current_draft(newsletter):
    return (
        newsletter.issues.filter(status=Issue.Status.DRAFT)
        .order_by(F("issue_date").desc(nulls_last=True), "-created_at")
        .first()
    )


@transaction.atomic
def accept(contribution, issue=None):
    """Add the item as an article before the closing section of the current draft; return the section.

    New content: an approved draft needs approving again (the new section's save withdraws the
    approval, models/rules.py: content_changed).
    """
    issue = issue or current_draft(contribution.newsletter)
    if issue is None:
        raise NoDraft(f"{contribution.newsletter} has no draft. Start next week's issue first.")
    closing = issue.sections.filter(parent=None, kind=Section.Kind.CLOSING).order_by("position").first()
    if closing:
        position = closing.position
        issue.sections.filter(position__gte=position).update(position=F("position") + 1)
    else:
        position = (issue.sections.aggregate(last=Max("position"))["last"] or 0) + 1
    credit = f"Suggested by {contribution.contact_name}" if contribution.contact_name else ""
    section = Section.objects.create(
        issue=issue,
        position=position,
        kind=Section.Kind.ARTICLE,
        heading=contribution.title,
        body_markdown=contribution.summary,
        source=credit,
    )
    if contribution.url:
        Link.objects.create(section=section, position=1, url=contribution.url, title=contribution.title, source=credit)
    contribution.status = Contribution.Status.ACCEPTED
    contribution.section = section
    contribution.decided_at = timezone.now()
    contribution.save(update_fields=["status", "section", "decided_at"])
    issue.rebuild_search_text()
    return section


def decline(contribution):
    contribution.status = Contribution.Status.DECLINED
    contribution.decided_at = timezone.now()
    contribution.save(update_fields=["status", "decided_at"])
