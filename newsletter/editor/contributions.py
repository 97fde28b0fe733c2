"""The contributions inbox: items suggested by people, fetched from feeds or mailed in; the editor accepts one
into the current draft (or a chosen section) or declines it."""

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


def _make_room_before_closing(issue):
    """The top-level position before the closing section (moving it and what follows down), else the end."""
    top = issue.sections.filter(parent=None)
    closing = top.filter(kind=Section.Kind.CLOSING).order_by("position").first()
    if closing:
        top.filter(position__gte=closing.position).update(position=F("position") + 1)
        return closing.position
    return (top.aggregate(last=Max("position"))["last"] or 0) + 1


def digest_group(issue, heading):
    """The draft's top-level digest group with this heading (any case), made before the closing section if none."""
    groups = issue.sections.filter(parent=None, kind=Section.Kind.DIGEST)
    found = groups.filter(heading__iexact=heading.strip()).order_by("position").first()
    if found:
        return found
    return Section.objects.create(
        issue=issue, position=_make_room_before_closing(issue), kind=Section.Kind.DIGEST, heading=heading.strip()
    )


def credit(contribution):
    """The source attribution readers see: the feed's name, or who suggested it (never an address)."""
    if contribution.origin == Contribution.Origin.FEED:
        return contribution.source_name or (contribution.feed.name if contribution.feed_id else "")
    return f"Suggested by {contribution.contact_name}" if contribution.contact_name else ""


@transaction.atomic
def accept(contribution, issue=None, group=None):
    """Put the item into the draft; return the new section.

    Into `group` (a digest group of the draft) when given; else into the digest group its source suggests
    (made when the draft has none); else, like a person's suggestion, as an article before the closing section.
    New content: an approved draft needs approving again (models/rules.py: content_changed).
    """
    if group is not None:
        issue = group.issue
    issue = issue or current_draft(contribution.newsletter)
    if issue is None:
        raise NoDraft(f"{contribution.newsletter} has no draft. Start next week's issue first.")
    if group is None and contribution.suggested_heading.strip():
        group = digest_group(issue, contribution.suggested_heading)
    source = credit(contribution)
    fields = {"issue": issue, "heading": contribution.title, "body_markdown": contribution.summary, "source": source}
    if group is not None:
        last = group.items.aggregate(last=Max("position"))["last"] or 0
        section = Section.objects.create(parent=group, position=last + 1, kind=Section.Kind.DIGEST_ITEM, **fields)
    else:
        section = Section.objects.create(position=_make_room_before_closing(issue), kind=Section.Kind.ARTICLE, **fields)
    if contribution.url:
        Link.objects.create(section=section, position=1, url=contribution.url, title=contribution.title, source=source)
    topic = contribution.suggested_topic
    if topic is not None and topic.newsletter_id == issue.newsletter_id:
        section.topics.add(topic)
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


def release(contribution):
    """A held item, reviewed: into the inbox as new."""
    Contribution.objects.filter(pk=contribution.pk, status=Contribution.Status.HELD).update(
        status=Contribution.Status.NEW
    )
