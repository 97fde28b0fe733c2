"""The domain, one module per area; every model is importable from `newsletter.models`.

content     newsletters, issues, tags
rules       what changes an issue's row: Issue.objects.move() (the only status change), approve(),
            content_changed() (an edit withdraws the approval; signals in sections and content call it)
sections    sections, links, images, comments
editorial   contributions (the editors' inbox)
audience    subscribers, subscriptions with consent, suppression
sending     deliveries and per-issue delivery totals

Models import nothing of Celery, SMTP, mail, sending or the admin (import-linter checks it).
"""

from newsletter.addresses import canonical_address, email_hash
from newsletter.models.audience import Subscriber, Subscription, SubscriptionQuerySet, Suppression
from newsletter.models.content import (
    RESERVED_ISSUE_SLUGS,
    RESERVED_NEWSLETTER_SLUGS,
    Issue,
    Newsletter,
    Tag,
    validate_issue_slug,
    validate_newsletter_slug,
)
from newsletter.models.editorial import Contribution, ContributionQuerySet
from newsletter.models.rules import IssueQuerySet, status_moved
from newsletter.models.sections import Comment, CommentQuerySet, Link, Section, SectionImage
from newsletter.models.sending import Delivery, DeliveryQuerySet, IssueDeliveryStats

__all__ = [
    "RESERVED_ISSUE_SLUGS",
    "RESERVED_NEWSLETTER_SLUGS",
    "Comment",
    "CommentQuerySet",
    "Contribution",
    "ContributionQuerySet",
    "Delivery",
    "DeliveryQuerySet",
    "Issue",
    "IssueDeliveryStats",
    "IssueQuerySet",
    "Link",
    "Newsletter",
    "Section",
    "SectionImage",
    "Subscriber",
    "Subscription",
    "SubscriptionQuerySet",
    "Suppression",
    "Tag",
    "canonical_address",
    "email_hash",
    "status_moved",
    "validate_issue_slug",
    "validate_newsletter_slug",
]
