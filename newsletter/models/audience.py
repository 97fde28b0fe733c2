"""Who receives a newsletter: subscribers, their subscriptions with consent, and the suppression list."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletter.addresses import canonical_address, email_hash
from newsletter.models.content import Newsletter
from newsletter.models.languages import language_choices


class Subscriber(models.Model):
    email = models.EmailField(max_length=254, unique=True, help_text="Stored normalised (lower case).")
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(
        max_length=10,
        choices=language_choices,
        blank=True,
        help_text="The language they read in (newsletter.models.languages.reader_language); blank: each "
        "newsletter's own.",
    )
    last_confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Confirmation mails to one address are throttled."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = canonical_address(self.email)
        super().save(*args, **kwargs)


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Subscription.Status.ACTIVE)

    def audience(self, issue):
        """The subscriptions that would receive the issue if it were sent now."""
        return self.active().filter(newsletter_id=issue.newsletter_id)

    def with_reader_language(self, newsletter):
        """Annotated `reader_language`: the language each gets `newsletter` in (languages.reader_language), in SQL,
        so the audience freeze stays one INSERT … SELECT."""
        languages = newsletter.languages
        language = models.Value(languages[0], output_field=models.CharField())
        if len(languages) == 2:
            second = models.When(subscriber__language=languages[1], then=models.Value(languages[1]))
            language = models.Case(second, default=language, output_field=models.CharField())
        return self.annotate(reader_language=language)

    def for_topics(self, topic_ids):
        """Those who chose at least one of `topic_ids`, or everything (no choice); all of them for no topics."""
        if not topic_ids:
            return self
        wanted = models.Q(topics="")
        for topic_id in sorted(topic_ids):
            wanted |= models.Q(topics__contains=f",{int(topic_id)},")
        return self.filter(wanted)

    def in_segment(self, criteria):
        """Those matching a segment's criteria (Segment.criteria(), also frozen in a send plan): every test is a
        WHERE clause, so the audience freeze stays one INSERT … SELECT. Empty criteria match everyone."""
        subscriptions = self.for_topics(criteria.get("topics") or ())
        if criteria.get("since"):
            since = criteria["since"]
            subscriptions = subscriptions.filter(
                models.Q(confirmed_at__date__gte=since)
                | models.Q(confirmed_at__isnull=True, created_at__date__gte=since)
            )
        if criteria.get("method"):
            subscriptions = subscriptions.filter(method=criteria["method"])
        if criteria.get("domain"):
            subscriptions = subscriptions.filter(subscriber__email__endswith=f"@{criteria['domain']}")
        return subscriptions


class Subscription(models.Model):
    class Status(models.TextChoices):
        # Labels a subscriber reads on their preferences page: translated (docs/translating.md).
        PENDING = "pending", _("Pending confirmation")
        ACTIVE = "active", _("Active")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")

    class Method(models.TextChoices):
        FORM = "form", _("Subscribe form")
        EMBED = "embed", _("Embedded form or API")
        IMPORT = "import", _("CSV import")
        ADMIN = "admin", _("Added by an editor")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="subscriptions")
    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Consent: how and when, and what the person agreed to.
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.FORM)
    consent_text = models.TextField(blank=True, help_text="The wording the person agreed to.")
    privacy_notice_version = models.CharField(max_length=20, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The reader's topics (newsletter.models.topics.topic_key): "" is everything, topics added later included.
    topics = models.TextField(blank=True, default="", help_text="Chosen topic ids as ,3,7,; empty: everything.")
    topics_chosen_at = models.DateTimeField(null=True, blank=True)
    topics_method = models.CharField(max_length=10, choices=Method.choices, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "newsletter"], name="one_subscription_per_newsletter"),
        ]
        indexes = [models.Index(fields=["newsletter", "status"], name="subscription_audience_idx")]

    def __str__(self):
        return f"{self.subscriber} → {self.newsletter} ({self.status})"

    def choose_topics(self, topic_ids, method, now=None):
        """Record the reader's topics with when and how; choosing none (or every one) is "everything"."""
        from newsletter.models.topics import topic_key

        self.topics = topic_key(topic_ids)
        self.topics_method = method
        self.topics_chosen_at = now or timezone.now()

    def activate(self):
        self.status = self.Status.ACTIVE
        self.confirmed_at = timezone.now()
        self.unsubscribed_at = None


class Suppression(models.Model):
    """Addresses that left every newsletter, bounced, complained or were erased, kept only as a hash: the sending
    worker skips them, and nobody re-adds them without their own confirmation."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        ERASED = "erased", "Personal data erased"
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Spam complaint"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.email_hash[:12]}… ({self.reason})"

    @classmethod
    def add(cls, address, reason, replace=True):
        """List the address (newsletter.subscribers.lifecycle.end_subscriptions decides when and why).

        replace=False keeps the reason of an address already listed (a later unsubscribe does not
        hide that it bounced or complained)."""
        if replace:
            cls.objects.update_or_create(email_hash=email_hash(address), defaults={"reason": reason})
        else:
            cls.objects.get_or_create(email_hash=email_hash(address), defaults={"reason": reason})

    @classmethod
    def is_suppressed(cls, address):
        return cls.objects.filter(email_hash=email_hash(address)).exists()

    @classmethod
    def lift(cls, address):
        """Only after the person has confirmed again."""
        cls.objects.filter(email_hash=email_hash(address)).delete()
