"""Beat's sweep, every DELIVERY_SWEEP_SECONDS: start due schedules, restore stalled sends, finish done ones."""

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from newsletter.models import (
    Delivery,
    Issue,
)
from newsletter.sending.queue import queue_batches, queue_send_issue
from newsletter.sending.worker import OPEN, finish
from newsletter.sending.workflow import start_due_scheduled


def sweep(now=None):
    """Beat, every DELIVERY_SWEEP_SECONDS: start due schedules, restore stalled sends, finish completed ones.

    Batch chains normally carry a send to its end by themselves; this catches what they
    cannot: a lost task message, or a whole worker killed with its chains' unacked tasks (Redis
    gives those back only after its visibility timeout). It restores every missing chain, and
    wakes a batch for the moment the earliest lease ends when that comes before the next sweep,
    so rows held by a dead worker go out again as soon as their lease ends.
    """
    now = now or timezone.now()
    started = start_due_scheduled(now)
    sending = set(Issue.objects.filter(status=Issue.Status.SENDING).values_list("pk", flat=True))
    # Sent issues matter only while some of their rows are open again (retry failed).
    reopened = Delivery.objects.filter(status__in=OPEN, issue__status=Issue.Status.SENT)
    reopened = reopened.values_list("issue_id", flat=True)
    for issue_id in sending | set(reopened.distinct()):
        rows = Delivery.objects.filter(issue_id=issue_id)
        if not rows.exists():
            if issue_id not in started and Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).exists():
                queue_send_issue(issue_id)  # not frozen yet (or its task was lost): freezing is once only
            continue
        held = rows.filter(status=Delivery.Status.SENDING, leased_until__gte=now)
        if rows.due(now).exists():
            live = held.values("lease_token").distinct().count()  # batches sending right now
            queue_batches(issue_id, max(1, settings.DELIVERY_PARALLEL_BATCHES - live))
        elif not rows.filter(status__in=OPEN).exists():
            finish(issue_id)
        else:
            lease_ends = held.aggregate(first=Min("leased_until"))["first"]
            if lease_ends and (lease_ends - now).total_seconds() < settings.DELIVERY_SWEEP_SECONDS:
                queue_batches(issue_id, 1, countdown=(lease_ends - now).total_seconds() + 0.1)
    return started
