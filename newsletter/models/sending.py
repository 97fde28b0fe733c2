"""One delivery per (issue, subscriber), the unit of sending, and an issue's totals once its rows are pruned."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from newsletter.models.audience import Subscriber
from newsletter.models.content import Issue


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        """Deliveries a worker may claim: pending, or claimed by a worker whose lease has run out."""
        now = now or timezone.now()
        return self.filter(
            Q(status=Delivery.Status.PENDING, retry_after__isnull=True)
            | Q(status=Delivery.Status.PENDING, retry_after__lte=now)
            | Q(status=Delivery.Status.SENDING, leased_until__lt=now)
        )


class Delivery(models.Model):
    """One issue to one subscriber: the unit of sending, claimed with a lease so nobody gets two copies."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unsubscribed before sending)"

    # Three soft bounces within 30 days count as one hard bounce (newsletter.subscribers.bounces); delivery
    # rows must be kept longer than that (newsletter.sending.housekeeping).
    SOFT_BOUNCE_LIMIT = 3
    SOFT_BOUNCE_DAYS = 30

    class Bounce(models.TextChoices):
        HARD = "hard", "Hard bounce"
        SOFT = "soft", "Soft bounce"
        COMPLAINT = "complaint", "Complaint"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    # Erasing a subscriber keeps the delivery for the issue's statistics, anonymous.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    # Unique to one claim: every write after sending checks it, so a worker whose lease was taken over
    # changes nothing (newsletter.sending.lease).
    lease_token = models.BigIntegerField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    bounce = models.CharField(max_length=9, choices=Bounce.choices, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # The edition this person gets (newsletter.models.topics.IssueEdition); null: the issue as stored at send start.
    edition = models.ForeignKey(
        "newsletter.IssueEdition", on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue_and_subscriber"),
        ]
        indexes = [
            models.Index(fields=["issue", "status"], name="delivery_progress_idx"),
            models.Index(fields=["status", "leased_until"], name="delivery_claim_idx"),
            models.Index(fields=["subscriber", "bounced_at"], name="delivery_bounce_idx"),
            # Only the open rows of a send, in id order: claims of retries and expired leases at the tail of
            # a send read these few rows instead of walking the primary key past every older issue's rows.
            models.Index(
                fields=["issue", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_open_idx",
            ),
        ]

    def __str__(self):
        return f"{self.issue} → {self.subscriber or 'erased subscriber'} ({self.status})"


class IssueDeliveryStats(models.Model):
    """An issue's delivery totals, written once when its Delivery rows are pruned (newsletter.sending.housekeeping).

    Once this row exists it is the issue's record: progress and the dashboard read it instead of counting rows.
    `bounced` counts hard and soft bounces; complaints are counted apart.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, primary_key=True, related_name="delivery_stats")
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    pruned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "issue delivery stats"

    def __str__(self):
        return f"{self.issue}: {self.sent} of {self.total} sent"
