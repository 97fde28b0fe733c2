"""The editors' inbox: items suggested by colleagues and readers (the form, the API), fetched from feeds and
mailed in (newsletter.inbox). A mailed item from a sender not on the allow-list is held for review."""

from django.db import models
from django.db.models import Q

from newsletter.models.content import Newsletter
from newsletter.models.sections import Section
from newsletter.models.sources import FeedSource
from newsletter.models.topics import Topic


class ContributionQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=Contribution.Status.NEW)

    def held(self):
        return self.filter(status=Contribution.Status.HELD)

    def undecided(self):
        """What an editor may still accept or decline: new and held items."""
        return self.filter(status__in=[Contribution.Status.NEW, Contribution.Status.HELD])


class Contribution(models.Model):
    """An item for the next issue: suggested by a person, or arrived from a feed or by mail."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        HELD = "held", "Held for review"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    class Origin(models.TextChoices):
        FORM = "form", "Suggestion form"
        API = "api", "API"
        FEED = "feed", "Feed"
        MAIL = "mail", "Email"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="contributions")
    title = models.CharField(max_length=200)
    url = models.URLField("link", max_length=1000, blank=True)
    summary = models.TextField(max_length=3000)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True, help_text="Who suggested or mailed it (none for feed items).")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    origin = models.CharField(max_length=4, choices=Origin.choices, default=Origin.FORM)
    feed = models.ForeignKey(FeedSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="contributions")
    source_name = models.CharField(max_length=200, blank=True, help_text="The feed it came from, as named then.")
    entry_key = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The feed entry's GUID (else its link), hashed."
    )
    published_at = models.DateTimeField("dated", null=True, blank=True, help_text="The entry's or the mail's date.")
    suggested_heading = models.CharField(
        "suggested section", max_length=300, blank=True, help_text="The draft's digest group it goes into."
    )
    suggested_topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Where it was used."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["newsletter", "status"], name="contribution_inbox_idx")]
        constraints = [
            # A feed entry is stored once, however many fetches race for it.
            models.UniqueConstraint(
                fields=["feed", "entry_key"], condition=Q(feed__isnull=False), name="contribution_feed_entry_unique"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def came_from(self):
        """Where it came from, in words: the feed's name, the sender, or the form."""
        if self.origin == self.Origin.FEED:
            return f"Feed: {self.source_name or (self.feed.name if self.feed_id else '?')}"
        who = self.contact_name or self.contact_email
        if self.origin == self.Origin.MAIL:
            return f"Email from {who}"
        if self.origin == self.Origin.API:
            return f"API ({who})" if who else "API"
        return f"Form: {who}"
