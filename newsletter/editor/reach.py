"""An issue's reach for its editors: clicks per section and per link (newsletter.models.reach), what was counted
apart as scanners, and the issue's unsubscribes, bounces and complaints beside them; a server-rendered SVG bar
chart (presentation attributes only: nothing the CSP refuses) and a CSV export.

Nothing here knows who clicked: the counts are per link, so no share of recipients is claimed."""

import csv
from dataclasses import dataclass

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from newsletter.models import Delivery, Issue, Subscription, TrackedLink

NO_SECTION = "Header and footer"


@dataclass
class Row:
    label: str
    clicks: int
    url: str = ""


def figures(issue):
    """None when the issue has no tracked links (sent without counting, or not sent yet)."""
    links = list(TrackedLink.objects.filter(issue=issue).select_related("section").order_by("position", "id"))
    if not links:
        return None
    shown = [link for link in links if not link.canary]
    sections = {}
    for link in shown:
        label = _section_label(link.section)
        sections[label] = sections.get(label, 0) + link.clicks
    per_link = [Row(f"{link.position}. {_short(link.url)}", link.clicks, link.url) for link in shown]
    per_section = [Row(label, clicks) for label, clicks in sections.items()]
    return {
        "clicks": sum(link.clicks for link in shown),
        "per_section": per_section,
        "per_link": per_link,
        "section_chart": chart(per_section),
        "link_chart": chart(per_link),
        "heads": sum(link.heads for link in links),
        "early": sum(link.early for link in links),
        "limited": sum(link.limited for link in links),
        "canary": sum(link.clicks + link.heads + link.early for link in links if link.canary),
        **leaving(issue),
    }


def leaving(issue):
    """Bounces and complaints recorded on the issue's deliveries; unsubscribes: its recipients who left the
    newsletter after it was sent and before the newsletter's next send (or now)."""
    counts = issue.deliveries.aggregate(
        bounces=Count("id", filter=Q(bounce__in=[Delivery.Bounce.HARD, Delivery.Bounce.SOFT])),
        complaints=Count("id", filter=Q(bounce=Delivery.Bounce.COMPLAINT)),
    )
    unsubscribes = 0
    if issue.send_started_at:
        after = Issue.objects.filter(
            newsletter_id=issue.newsletter_id, send_started_at__gt=issue.send_started_at
        ).order_by("send_started_at")
        until = after.values_list("send_started_at", flat=True).first()
        window = Q(unsubscribed_at__gte=issue.send_started_at) & (Q(unsubscribed_at__lt=until) if until else Q())
        unsubscribes = Subscription.objects.filter(
            window,
            newsletter_id=issue.newsletter_id,
            status=Subscription.Status.UNSUBSCRIBED,
            subscriber__deliveries__issue=issue,
        ).count()
    return {**counts, "unsubscribes": unsubscribes}


def chart(rows, width=420, bar=14, gap=6, label_width=0):
    """Horizontal bars for an inline SVG: one per row, its length in proportion to the largest."""
    peak = max([row.clicks for row in rows] + [1])
    bars = [
        {"y": n * (bar + gap), "w": round(row.clicks / peak * (width - 60), 1), "row": row, "ty": n * (bar + gap) + 11}
        for n, row in enumerate(rows)
    ]
    for item in bars:
        item["tx"] = item["w"] + 4
    return {"bars": bars, "width": width, "height": max(len(rows) * (bar + gap), bar), "bar": bar}


def export_csv(request, pk):
    issue = get_object_or_404(Issue, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{issue.slug}-clicks.csv"'
    writer = csv.writer(response)
    writer.writerow(["position", "section", "url", "clicks", "head_requests", "on_arrival", "rate_limited", "canary"])
    for link in TrackedLink.objects.filter(issue=issue).select_related("section").order_by("position", "id"):
        label = _section_label(link.section)
        row = [link.position, label, link.url, link.clicks, link.heads, link.early, link.limited, link.canary]
        writer.writerow([_safe_cell(value) for value in row])
    return response


def top_links(issues=5, limit=5):
    """The most-clicked links of the last `issues` issues sent with counting on, for the dashboard."""
    recent = (
        Issue.objects.filter(tracked_links__isnull=False, send_started_at__isnull=False)
        .distinct()
        .order_by("-send_started_at")
        .values_list("pk", flat=True)[:issues]
    )
    return list(
        TrackedLink.objects.filter(issue_id__in=list(recent), canary=False, clicks__gt=0)
        .select_related("issue", "section")
        .order_by("-clicks", "position")[:limit]
    )


def _section_label(section):
    return (section.heading or section.get_kind_display()) if section else NO_SECTION


def _short(url, length=60):
    url = url.removeprefix("https://").removeprefix("http://")
    return url if len(url) <= length else url[: length - 1] + "…"


def _safe_cell(value):
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value
