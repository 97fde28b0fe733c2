"""Where the inbox's items come from besides people: feeds (RSS/Atom) and a mailbox per newsletter.

A FeedSource is fetched by newsletter.inbox.feeds when due (FeedSource.objects.due()); each entry it has
not seen becomes a Contribution marked as from that feed (unique per source and entry key, so an entry is
stored once even when two fetches race). A ContributionMailbox says a newsletter takes mail at
contribute+<slug>@… (newsletter.mail.addresses) and whose mail goes straight into the inbox; anyone
else's is held for review.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from newsletter.addresses import canonical_address
from newsletter.models.content import Newsletter
from newsletter.models.topics import Topic


class FeedSourceQuerySet(models.QuerySet):
    def due(self, now):
        """Enabled sources never fetched or whose interval has passed."""
        return self.filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now), enabled=True)


class SuggestsSection(models.Model):
    """Where an accepted item goes: a digest group of the draft (by heading) and, optionally, a topic."""

    section_heading = models.CharField(
        "suggested section",
        max_length=300,
        blank=True,
        help_text="The digest group of the draft its items go into when accepted (made when the draft has none).",
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Accepted items carry this topic (newsletters with topics only).",
    )

    class Meta:
        abstract = True

    def clean(self):
        if self.topic_id and self.newsletter_id and self.topic.newsletter_id != self.newsletter_id:
            raise ValidationError({"topic": "Choose one of this newsletter's topics."})


class FeedSource(SuggestsSection):
    """An RSS or Atom feed whose new entries arrive in the newsletter's inbox."""

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="feed_sources")
    name = models.CharField(max_length=200, help_text="Shown as the source of its items, in the inbox and the issue.")
    url = models.URLField("feed URL", max_length=1000)
    keywords = models.CharField(
        "keyword filter",
        max_length=500,
        blank=True,
        help_text="Comma-separated. Only entries whose title or summary contains one of them arrive; empty: all.",
    )
    interval_minutes = models.PositiveIntegerField(
        "fetch every (minutes)", default=60, validators=[MinValueValidator(5)]
    )
    enabled = models.BooleanField(
        default=True, help_text="Untick to pause. A feed that keeps failing is paused for you; tick to resume."
    )
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(null=True, blank=True, editable=False)
    etag = models.CharField("ETag", max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    failures = models.PositiveIntegerField("consecutive failures", default=0, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedSourceQuerySet.as_manager()

    class Meta:
        ordering = ["newsletter", "name"]
        verbose_name = "feed source"
        constraints = [models.UniqueConstraint(fields=["newsletter", "url"], name="feed_source_url_unique")]
        indexes = [models.Index(fields=["enabled", "next_fetch_at"], name="feed_source_due_idx")]

    def __str__(self):
        return self.name

    @property
    def keyword_list(self):
        return [k.strip().casefold() for k in self.keywords.split(",") if k.strip()]

    def wants(self, text):
        """True when the keyword filter lets text through (no filter: everything)."""
        keywords = self.keyword_list
        folded = text.casefold()
        return not keywords or any(k in folded for k in keywords)

    def next_after(self, now, failures=0):
        """When to fetch next: the interval, doubled for each failure in a row (a day at most)."""
        minutes = min(self.interval_minutes * 2 ** min(failures, 10), 24 * 60) if failures else self.interval_minutes
        return now + datetime.timedelta(minutes=minutes)


class ContributionMailbox(SuggestsSection):
    """Mail to contribute+<newsletter slug>@… becomes an inbox item; only allowed senders' items skip review."""

    newsletter = models.OneToOneField(Newsletter, on_delete=models.CASCADE, related_name="contribution_mailbox")
    enabled = models.BooleanField(default=True, help_text="Untick to ignore mail to this address.")
    allowed_senders = models.TextField(
        blank=True,
        help_text="One address or @domain per line. Their mail arrives as new; anyone else's is held for review. "
        "Active editors' own addresses are always allowed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "contribution mailbox"
        verbose_name_plural = "contribution mailboxes"

    def __str__(self):
        return f"Mailbox of {self.newsletter}"

    def allows(self, address, editor_addresses=()):
        """True when the (canonical) sender is on the allow-list or is an editor."""
        address = canonical_address(address)
        if not address or "@" not in address:
            return False
        domain = "@" + address.rpartition("@")[2]
        allowed = {canonical_address(line) for line in self.allowed_senders.splitlines() if line.strip()}
        allowed |= {canonical_address(a) for a in editor_addresses if a}
        return address in allowed or domain in allowed
