"""Housekeeping: summarise and prune old Delivery rows.

A Delivery row per (issue, subscriber) is what makes sending exactly-once and bounces traceable,
but once an issue's sending finished long ago its rows are only statistics: a weekly newsletter
with 100,000 readers adds 5 million rows a year. For each issue whose sending finished more
than DELIVERY_RETENTION_DAYS ago, prune_deliveries() writes the issue's totals into
IssueDeliveryStats once, then deletes its rows in bounded batches (short transactions, no long
locks). delivery.progress() and the dashboard read the stored totals from then on, so every
figure shown for the issue stays the same.

Safe to run twice, and safe to stop half way: the totals are written (from the full set of rows)
before the first row is deleted and never recomputed, so a second run only deletes what is left.

Retention must stay above Delivery.SOFT_BOUNCE_DAYS: the soft-bounce rule (three within 30 days)
counts a subscriber's recent Delivery rows, and bounce reports that arrive late find their
delivery by its id.
"""

import datetime
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from newsletter.models import Delivery, Issue, IssueDeliveryStats

logger = logging.getLogger("newsletter.sending.housekeeping")

PRUNE_BATCH_SIZE = 5000
OPEN = (Delivery.Status.PENDING, Delivery.Status.SENDING)


@dataclass
class PruneReport:
    issues: list = field(default_factory=list)  # ids of the issues pruned in this run
    summarised: int = 0  # issues whose totals were written in this run
    deleted: int = 0  # Delivery rows deleted

    def __str__(self):
        return (
            f"{len(self.issues)} issue(s) pruned, {self.summarised} summarised, {self.deleted} delivery row(s) deleted"
        )


def retention_days(days=None):
    days = settings.DELIVERY_RETENTION_DAYS if days is None else days
    if days <= Delivery.SOFT_BOUNCE_DAYS:
        raise ValueError(
            f"Delivery retention must be more than {Delivery.SOFT_BOUNCE_DAYS} days: the soft-bounce rule reads "
            f"the last {Delivery.SOFT_BOUNCE_DAYS} days of deliveries (got {days})."
        )
    return days


def prunable_issues(now=None, days=None):
    """Issues sent more than `days` ago that still have Delivery rows and none of them open."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=retention_days(days))
    with_rows = Delivery.objects.values("issue_id")
    still_open = Delivery.objects.filter(status__in=OPEN).values("issue_id")
    return (
        Issue.objects.filter(status=Issue.Status.SENT, sent_at__lt=cutoff, pk__in=with_rows)
        .exclude(pk__in=still_open)
        .order_by("sent_at", "pk")
    )


def delivery_totals(issue_id):
    """Counts from an issue's Delivery rows, in the fields of IssueDeliveryStats."""
    return Delivery.objects.filter(issue_id=issue_id).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        skipped=Count("id", filter=Q(status=Delivery.Status.SKIPPED)),
        bounced=Count("id", filter=Q(bounce__in=[Delivery.Bounce.HARD, Delivery.Bounce.SOFT])),
        complaints=Count("id", filter=Q(bounce=Delivery.Bounce.COMPLAINT)),
    )


def summarise(issue_id):
    """Write the issue's totals once, from its rows. Returns True when written now, False when already there."""
    with transaction.atomic():
        # Lock the issue so a "retry failed" cannot reopen rows while they are counted.
        issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None or IssueDeliveryStats.objects.filter(issue_id=issue_id).exists():
            return False
        if Delivery.objects.filter(issue_id=issue_id, status__in=OPEN).exists():
            return False
        IssueDeliveryStats.objects.create(issue_id=issue_id, **delivery_totals(issue_id))
        return True


def delete_deliveries(issue_id, batch_size=PRUNE_BATCH_SIZE):
    """Delete an issue's Delivery rows, `batch_size` per transaction. Only after its totals are stored."""
    if not IssueDeliveryStats.objects.filter(issue_id=issue_id).exists():
        raise ValueError(f"issue {issue_id} has no stored totals; summarise it first")
    deleted = 0
    while True:
        ids = list(Delivery.objects.filter(issue_id=issue_id).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # Nothing refers to a Delivery, so this is one DELETE … WHERE id IN (…) per batch.
        count, _ = Delivery.objects.filter(pk__in=ids).delete()
        deleted += count


def prune_deliveries(now=None, days=None, batch_size=PRUNE_BATCH_SIZE):
    """Summarise and prune the Delivery rows of every issue sent more than `days` ago (default
    DELIVERY_RETENTION_DAYS). Returns a PruneReport; a second run finds nothing to do."""
    report = PruneReport()
    for issue_id in list(prunable_issues(now, days).values_list("pk", flat=True)):
        report.summarised += summarise(issue_id)
        if not IssueDeliveryStats.objects.filter(issue_id=issue_id).exists():
            continue  # reopened by "retry failed" in the meantime: next run
        deleted = delete_deliveries(issue_id, batch_size)
        report.deleted += deleted
        report.issues.append(issue_id)
        logger.info(json.dumps({"event": "deliveries_pruned", "issue": issue_id, "deleted": deleted}))
    return report
