"""What an editor sees first: the current drafts, what is scheduled, the last send, and list growth."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from newsletter.editor import reach
from newsletter.models import Contribution, Delivery, Issue, IssueDeliveryStats, Subscription

WEEKS = 12


@dataclass
class Week:
    start: datetime.date
    gained: int
    lost: int


def list_growth(weeks=WEEKS, today=None):
    """Subscribers gained (confirmed) and lost (unsubscribed) per week, oldest first, two queries."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=today.weekday(), weeks=weeks - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time()))

    def per_week(field):
        rows = (
            Subscription.objects.filter(**{f"{field}__gte": since})
            .annotate(week=TruncWeek(field))
            .values("week")
            .annotate(n=Count("id"))
        )
        return {timezone.localtime(row["week"]).date() if hasattr(row["week"], "hour") else row["week"]: row["n"]
                for row in rows}  # fmt: skip

    gained, lost = per_week("confirmed_at"), per_week("unsubscribed_at")
    starts = [first + datetime.timedelta(weeks=n) for n in range(weeks)]
    return [Week(start, gained.get(start, 0), lost.get(start, 0)) for start in starts]


def chart(weeks, height=60, bar=10, gap=6):
    """Bars for an inline SVG: gained above the axis, lost below."""
    peak = max([w.gained for w in weeks] + [w.lost for w in weeks] + [1])
    half = height / 2
    bars = []
    for n, week in enumerate(weeks):
        x = n * (bar + gap)
        up, down = week.gained / peak * (half - 2), week.lost / peak * (half - 2)
        bars.append({"x": x, "week": week, "up_y": half - up, "up_h": up, "down_h": down, "axis": half})
    return {"bars": bars, "width": len(weeks) * (bar + gap), "height": height, "bar": bar}


def last_send():
    issue = (
        Issue.objects.filter(send_started_at__isnull=False)
        .select_related("newsletter")
        .order_by("-send_started_at")
        .first()
    )
    if issue is None:
        return None
    stored = IssueDeliveryStats.objects.filter(issue_id=issue.pk).first()
    if stored:  # rows pruned by newsletter.sending.housekeeping; "bounced" here has always included complaints
        return {
            "issue": issue,
            "total": stored.total,
            "sent": stored.sent,
            "failed": stored.failed,
            "bounced": stored.bounced + stored.complaints,
        }
    counts = issue.deliveries.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        bounced=Count("id", filter=~Q(bounce="")),
    )
    return {"issue": issue, **counts}


def summary():
    weeks = list_growth()
    return {
        "drafts": list(
            Issue.objects.filter(status=Issue.Status.DRAFT).select_related("newsletter").order_by("-updated_at")[:5]
        ),
        "scheduled": list(
            Issue.objects.filter(status=Issue.Status.SCHEDULED).select_related("newsletter").order_by("scheduled_for")
        ),
        "sending": list(Issue.objects.filter(status__in=[Issue.Status.SENDING, Issue.Status.PAUSED])),
        "last_send": last_send(),
        "top_links": reach.top_links(),  # the most-clicked links of the last issues sent with counting on
        "contributions_waiting": Contribution.objects.waiting().count(),
        "contributions_held": Contribution.objects.held().count(),
        "weeks": weeks,
        "chart": chart(weeks),
        "gained": sum(w.gained for w in weeks),
        "lost": sum(w.lost for w in weeks),
    }
