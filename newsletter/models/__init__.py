"""The domain, one module per area; every model is importable from `newsletter.models`.

content     newsletters, issues, tags
rules       what changes an issue's row: Issue.objects.move() (the only status change), approve(),
            content_changed() (an edit withdraws the approval; signals in sections and content call it)
sections    sections, links, images, comments
editorial   contributions (the editors' inbox: the form, the API, feeds, mail)
sources     feed sources and the contribution mailbox per newsletter (what fills the inbox besides people)
audience    subscribers, subscriptions with consent, suppression
sending     deliveries and per-issue delivery totals
topics      topics per newsletter (on sections, chosen by readers) and an issue's editions
revisions   a snapshot of an issue's content per save (history, diffs, the approved and the sent version)
apitokens   editors' tokens for the JSON API (hashed; scoped read or write)
reach       the links of a sent issue (short links, no subscriber in them) and their aggregate click counters
webhooks    editors' webhook endpoints per newsletter and every delivery attempt

Models import nothing of Celery, SMTP, mail, sending or the admin (import-linter checks it).
"""

from newsletter.addresses import canonical_address, email_hash
from newsletter.models import revisions
from newsletter.models.apitokens import ApiToken
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
from newsletter.models.reach import TrackedLink
from newsletter.models.revisions import Revision, RevisionQuerySet
from newsletter.models.rules import IssueQuerySet, status_moved
from newsletter.models.sections import Comment, CommentQuerySet, Link, Section, SectionImage
from newsletter.models.sending import Delivery, DeliveryQuerySet, IssueDeliveryStats
from newsletter.models.sources import ContributionMailbox, FeedSource, FeedSourceQuerySet
from newsletter.models.topics import (
    RESERVED_TOPIC_SLUGS,
    IssueEdition,
    Topic,
    topic_ids,
    topic_key,
    validate_topic_slug,
)
from newsletter.models.webhooks import WebhookAttempt, WebhookEndpoint

revisions.connect()

__all__ = [
    "RESERVED_ISSUE_SLUGS",
    "RESERVED_NEWSLETTER_SLUGS",
    "RESERVED_TOPIC_SLUGS",
    "ApiToken",
    "Comment",
    "CommentQuerySet",
    "Contribution",
    "ContributionMailbox",
    "ContributionQuerySet",
    "Delivery",
    "DeliveryQuerySet",
    "FeedSource",
    "FeedSourceQuerySet",
    "Issue",
    "IssueDeliveryStats",
    "IssueEdition",
    "IssueQuerySet",
    "Link",
    "Newsletter",
    "Revision",
    "RevisionQuerySet",
    "Section",
    "SectionImage",
    "Subscriber",
    "Subscription",
    "SubscriptionQuerySet",
    "Suppression",
    "Tag",
    "Topic",
    "TrackedLink",
    "WebhookAttempt",
    "WebhookEndpoint",
    "canonical_address",
    "email_hash",
    "status_moved",
    "topic_ids",
    "topic_key",
    "validate_issue_slug",
    "validate_newsletter_slug",
    "validate_topic_slug",
]
