"""Topics: what a newsletter's sections are about, chosen by readers; an issue's editions; editors' segments.

A section may carry topics (Section.topics). A subscription stores the reader's choice as a key,
",3,7," (topic ids, sorted, between commas), "" for "everything": the default, which includes topics
added later. A reader who chose none is "everything", never "nothing". The key lets the audience
freeze filter and group by topic in SQL (one LIKE per selected topic), without a join per topic.

An edition is one rendering of an issue for one set of sections (newsletter.sending.editions plans
them, once per distinct topic set in the audience, never per recipient); Delivery.edition says which
one each person got, so a retried delivery gets the same one.

A segment is a newsletter's active subscribers narrowed by what is already stored about them: topics chosen
(one of these, or everything), subscribed since a date, how consent was given, the domain of the address.
Its criteria are plain data (Segment.criteria()) that a send plan freezes, and
SubscriptionQuerySet.in_segment() turns into a WHERE clause.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from newsletter.models.audience import Subscription
from newsletter.models.content import Issue, Newsletter

# /<newsletter>/topics/<topic>/ and its feed: slugs a topic cannot take.
RESERVED_TOPIC_SLUGS = frozenset({"feed", "all", "everything", "none", "topics", "new", "add"})


def validate_topic_slug(value):
    if value in RESERVED_TOPIC_SLUGS:
        raise ValidationError(f"“{value}” is used by the site's own pages; choose another slug.")


def topic_key(topic_ids):
    """The stored form of a choice: ",3,7,"; "" (everything) for no topics."""
    ids = sorted({int(t) for t in topic_ids})
    return f",{','.join(map(str, ids))}," if ids else ""


def topic_ids(key):
    """The topic ids of a stored choice (an empty set is "everything")."""
    return frozenset(int(part) for part in (key or "").split(",") if part)


class Topic(models.Model):
    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, validators=[validate_topic_slug])
    description = models.TextField(blank=True, help_text="Shown to readers beside the topic's tick box.")
    position = models.PositiveIntegerField(default=0, help_text="Order on the forms and pages.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["newsletter", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["newsletter", "slug"], name="topic_slug_unique_per_newsletter"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:topic", args=[self.newsletter.slug, self.slug])


class IssueEdition(models.Model):
    """What one group of an issue's recipients is mailed: the sections for their topics (plus untagged ones)."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="editions")
    number = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=500, help_text="“All sections”, or the topics it carries.")
    topic_ids = models.JSONField(default=list, help_text="Empty: every section.")
    section_ids = models.JSONField(default=list)
    recipients = models.PositiveIntegerField(default=0, help_text="As frozen.")
    subject = models.CharField(max_length=200)
    html = models.TextField()
    text = models.TextField()
    web_url = models.CharField(max_length=1000, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="Blank: the newsletter's own.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["issue", "number"]
        constraints = [models.UniqueConstraint(fields=["issue", "number"], name="one_edition_number_per_issue")]

    def __str__(self):
        return f"{self.issue} – {self.label}"


def clean_domain(value):
    """ "@Council.gov.uk" → "council.gov.uk"; a domain, not an address."""
    domain = (value or "").strip().lstrip("@").lower()
    if domain and ("@" in domain or " " in domain or "." not in domain):
        raise ValidationError("Give a domain such as council.gov.uk (the part after @).")
    return domain


class Segment(models.Model):
    """Some of a newsletter's active subscribers, by attributes already stored; an audience for a send or test."""

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=100, help_text="E.g. “@council.gov.uk colleagues”.")
    topics = models.ManyToManyField(
        Topic,
        blank=True,
        related_name="segments",
        help_text="Subscribers who chose one of these topics, or everything. None ticked: any choice.",
    )
    subscribed_since = models.DateField(null=True, blank=True, help_text="Confirmed on or after this day.")
    method = models.CharField(
        "consent given by",
        max_length=10,
        choices=Subscription.Method.choices,
        blank=True,
        help_text="How they subscribed. Blank: any way.",
    )
    domain = models.CharField(
        "address domain", max_length=253, blank=True, help_text="E.g. council.gov.uk: addresses ending @council.gov.uk."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["newsletter", "name"]
        constraints = [
            models.UniqueConstraint(fields=["newsletter", "name"], name="segment_name_unique_per_newsletter")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.domain = clean_domain(self.domain)

    def criteria(self, topic_ids=None):
        """The segment as plain data (what a send plan freezes)."""
        if topic_ids is None:
            topic_ids = [t.pk for t in self.topics.all()] if self.pk else []
        return segment_criteria(self.newsletter_id, topic_ids, self.subscribed_since, self.method, self.domain)

    def subscriptions(self):
        return segment_subscriptions(self.criteria())


def segment_criteria(newsletter_id, topic_ids=(), since=None, method="", domain=""):
    return {
        "newsletter": newsletter_id,
        "topics": sorted(int(t) for t in topic_ids),
        "since": since.isoformat() if since else None,
        "method": method or "",
        "domain": clean_domain(domain),
    }


def segment_subscriptions(criteria):
    """The active subscriptions a segment's criteria match now."""
    active = Subscription.objects.active().filter(newsletter_id=criteria["newsletter"])
    return active.in_segment(criteria)
