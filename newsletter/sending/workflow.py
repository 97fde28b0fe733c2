"""The editor's side of sending: what the admin, the review page and the commands call.

can_send(issue, user=None) -> [reasons]   why it cannot be sent now; empty when it can
audience_count(issue) -> int               how many would receive it now
audience_languages(issue)                  a bilingual newsletter's: how many in each language
start_send(issue, user=None)               DRAFT/SCHEDULED → SENDING; stores what is mailed; queues the send
schedule(issue, when, user) / cancel_schedule(issue)
pause(issue) / resume(issue) / retry_failed(issue)
progress(issue) -> {total, sent, failed, skipped, pending, rate, status}
send_test(issue, addresses)                one copy each, touching no Delivery
start_due_scheduled(now)                   the sweep's first step
"""

import datetime
import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from newsletter.addresses import canonical_address
from newsletter.mail.message import IssueEmail
from newsletter.mail.reach import track_links
from newsletter.mail.transport import open_transport
from newsletter.models import (
    Delivery,
    Issue,
    IssueDeliveryStats,
    Subscriber,
    revisions,
)
from newsletter.models.languages import language_name
from newsletter.rendering import render_issue
from newsletter.sending import editions
from newsletter.sending.queue import queue_batches, queue_send_issue
from newsletter.sending.worker import OPEN, set_pause_mark

logger = logging.getLogger("newsletter.delivery")
RATE_WINDOW_SECONDS = 10
UNSENT = (Issue.Status.DRAFT, Issue.Status.SCHEDULED)  # what can be sent or scheduled


class SendError(ValidationError):
    """The issue cannot be sent (or scheduled) as asked; the message says why."""


# The editor's side ------------------------------------------------------------------------


def can_send(issue, user=None):
    """Reasons the issue cannot be sent or scheduled now (by `user`, when given); an empty list means it can."""
    if issue.status == Issue.Status.IMPORTED:
        return ["Imported issues are part of the archive and are never sent."]
    problems = []
    if issue.status not in UNSENT:
        problems.append(f"It is {issue.get_status_display().lower()}; only a draft or scheduled issue can be sent.")
    if issue.newsletter.requires_approval and not issue.approved_at:
        problems.append("This newsletter needs a second editor to approve each issue before it is sent.")
    elif issue.newsletter.requires_approval and not revisions.approval_is_current(issue):
        problems.append("It changed since it was approved (see its history); it needs approving again.")
    elif issue.newsletter.requires_approval and user is not None and issue.approved_by_id == user.pk:
        problems.append("You approved this issue; a second editor must be the one to send it.")
    return problems


def audience_count(issue):
    """How many would receive it now: its newsletter's active subscribers, narrowed by a scheduled topic plan."""
    return editions.audience(issue, issue.send_plan).count()


def audience_languages(issue):
    """A bilingual newsletter: [(language name, how many would get it in that language now)]; [] otherwise."""
    newsletter = issue.newsletter
    if not newsletter.is_bilingual:
        return []
    counts = editions.language_counts(editions.audience(issue, issue.send_plan), newsletter)
    return [(language_name(code), sum(counts.get(code, {}).values())) for code in newsletter.languages]


def _plan(issue, mode, topics, segment=None):
    """The topic plan to freeze: the one stored when it was scheduled, unless the editor chooses again."""
    if mode is None and segment is None and issue.status == Issue.Status.SCHEDULED and issue.send_plan:
        return issue.send_plan
    return editions.snapshot(issue, mode or editions.ALL, topics, segment)


def start_send(issue, user=None, mode=None, topics=(), segment=None):
    """Start sending: freeze what is mailed onto the issue, mark it SENDING, queue send_issue after commit.

    Safe against double clicks and concurrent beats: only one caller moves the issue out of
    DRAFT/SCHEDULED (Issue.objects.move, a compare-and-set); the others get SendError. The move
    also tells the archive's page cache: the issue is on the web from now on. `mode` and `topics`
    (newsletter.sending.editions) choose who gets what, `segment` (a Segment or its id) narrows the audience;
    a scheduled issue keeps the plan it was scheduled with.
    """
    problems = can_send(issue, user)
    if problems:
        raise SendError(" ".join(problems))
    rendered = track_links(issue, render_issue(issue))  # short links when the newsletter counts clicks
    now = timezone.now()
    changes = {
        "send_started_at": now,
        "sent_subject": rendered.subject[:200],
        "sent_html": rendered.html,
        "sent_text": rendered.text,
        "send_plan": _plan(issue, mode, topics, segment),
    }
    if user is not None:
        changes["send_started_by"] = user
    with transaction.atomic():
        if not Issue.objects.move(issue.pk, UNSENT, Issue.Status.SENDING, **changes):
            raise SendError("This issue is already being sent.")
        queue_send_issue(issue.pk)
    issue.refresh_from_db()
    logger.info(json.dumps({"event": "send_started", "issue": issue.pk, "html_bytes": rendered.html_size}))
    return issue


def schedule(issue, when, user=None, mode=None, topics=(), segment=None):
    """Send the issue once at `when`; beat's sweep picks it up (no long Celery ETA). The topic plan is frozen now."""
    problems = can_send(issue, user)
    if problems:
        raise SendError(" ".join(problems))
    if when <= timezone.now():
        raise SendError("Choose a time in the future, or send it now.")
    changes = {"scheduled_for": when, "send_plan": editions.snapshot(issue, mode or editions.ALL, topics, segment)}
    if user is not None:
        changes["send_started_by"] = user
    if not Issue.objects.move(issue.pk, UNSENT, Issue.Status.SCHEDULED, **changes):
        raise SendError("This issue is already being sent.")
    issue.refresh_from_db()
    return issue


def cancel_schedule(issue):
    """Back to draft; False when sending had already started."""
    cancelled = Issue.objects.move(
        issue.pk, Issue.Status.SCHEDULED, Issue.Status.DRAFT, scheduled_for=None, send_plan=None
    )
    issue.refresh_from_db()
    return bool(cancelled)


def pause(issue):
    """Stop claiming new batches (batches in flight finish). False when it was not sending."""
    paused = Issue.objects.move(issue.pk, Issue.Status.SENDING, Issue.Status.PAUSED)
    issue.refresh_from_db()
    return bool(paused)


def resume(issue):
    """Carry on after a pause; the failure share is judged afresh from here."""
    with transaction.atomic():
        resumed = Issue.objects.move(issue.pk, Issue.Status.PAUSED, Issue.Status.SENDING)
        if resumed:
            set_pause_mark(issue.pk)
            queue_send_issue(issue.pk)  # freezes the audience if a pause came first, then queues the batches
    issue.refresh_from_db()
    return bool(resumed)


def retry_failed(issue):
    """Send the issue's failed deliveries again (only those); returns how many."""
    with transaction.atomic():
        count = Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, retry_after=None, leased_until=None
        )
        if count:
            set_pause_mark(issue.pk)
            if issue.status in (Issue.Status.SENDING, Issue.Status.SENT):
                queue_batches(issue.pk, settings.DELIVERY_PARALLEL_BATCHES)
    return count


def progress(issue):
    """Counts for the admin and the send_issue command; `rate` is messages/s over the last few seconds."""
    now = timezone.now()
    status = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True).first()
    stored = IssueDeliveryStats.objects.filter(issue_id=issue.pk).values("total", "sent", "failed", "skipped").first()
    if stored:  # rows pruned by newsletter.sending.housekeeping: the totals written before they went
        return {**stored, "pending": 0, "rate": 0.0, "status": status}
    counts = Delivery.objects.filter(issue_id=issue.pk).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        skipped=Count("id", filter=Q(status=Delivery.Status.SKIPPED)),
        pending=Count("id", filter=Q(status__in=OPEN)),
        recent=Count("id", filter=Q(sent_at__gte=now - datetime.timedelta(seconds=RATE_WINDOW_SECONDS))),
    )
    recent = counts.pop("recent")
    return {**counts, "rate": round(recent / RATE_WINDOW_SECONDS, 1), "status": status}


def send_test(issue, addresses):
    """Send one copy of the issue as it is now to each address, marked [Test], in each of the newsletter's
    languages (a bilingual newsletter's two: the editor checks both); touches no Delivery."""
    emails = []
    for language in issue.newsletter.languages:
        rendered = render_issue(issue, language=language)
        subject = f"[Test] {rendered.subject}"
        emails.append(IssueEmail(issue, subject=subject, html=rendered.html, text=rendered.text, language=language))
    sent = 0
    with open_transport() as transport:
        for address in addresses:
            subscriber = Subscriber.objects.filter(email=canonical_address(address)).first()
            for email in emails:
                message = email.build(
                    delivery_id=None,
                    subscriber_id=subscriber.pk if subscriber else 0,
                    address=address.strip(),
                    name=subscriber.name if subscriber else "",
                )
                transport.send(message)
                sent += 1
    return sent


def start_due_scheduled(now=None):
    """Start every scheduled issue whose time has come; the status update claims each for one caller only."""
    now = now or timezone.now()
    started = []
    due = Issue.objects.filter(status=Issue.Status.SCHEDULED, scheduled_for__lte=now).select_related("newsletter")
    for issue in due:
        try:
            started.append(start_send(issue).pk)
        except SendError as exc:
            logger.warning(json.dumps({"event": "schedule_not_sent", "issue": issue.pk, "reason": str(exc.message)}))
    return started
