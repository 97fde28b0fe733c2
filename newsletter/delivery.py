"""Sending an issue: freeze the audience, claim deliveries with a lease, send in batches, record each result.

The editor's side (admin, commands, the editor workflow) uses these plain functions:

    can_send(issue) -> [reasons]           why it cannot be sent now; empty when it can
    audience_count(issue) -> int           how many would receive it now
    start_send(issue, user=None)           DRAFT/SCHEDULED → SENDING; stores what is mailed; queues the send
    schedule(issue, when, user) / cancel_schedule(issue)
    pause(issue) / resume(issue) / retry_failed(issue)
    progress(issue) -> {total, sent, failed, skipped, pending, rate, status}
    send_test(issue, addresses)            one copy each, touching no Delivery

The worker's side (newsletter/tasks/delivery.py calls these):

    send_issue(issue_id)    freeze the audience into Delivery rows once, then queue the batch chains
    send_batch(issue_id)    claim up to DELIVERY_BATCH_SIZE due deliveries, send them over one SMTP
                            connection, record each as it goes, then queue what comes next
    sweep()                 beat: start due scheduled issues, re-queue stalled sends, finish done ones

Exactly once. A delivery is sent only by the worker holding its lease (status SENDING,
leased_until in the future); a lease is taken with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, or a compare-and-set UPDATE elsewhere, so two workers never hold one
delivery. The lease is renewed while the server answers and no socket operation runs past
it; every write after sending checks the claim's token, so a worker that lost its lease
changes nothing. Each result is written the moment the SMTP server answers, so a worker that
dies loses at most the message in flight: its lease runs out and another worker sends
it. The one remaining window (the server accepted a message, the worker died before its
UPDATE committed) is described in docs/delivery.md.
"""

import binascii
import contextlib
import datetime
import io
import json
import logging
import random
import secrets
import smtplib
import socket
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from newsletter import bounces
from newsletter.cache import archive_changed
from newsletter.models import (
    Delivery,
    Issue,
    IssueDeliveryStats,
    Subscriber,
    Subscription,
    Suppression,
    email_hash,
)
from newsletter.rendering import PLACEHOLDERS, fill, render_issue, substitutions
from newsletter.tokens import absolute, preferences_token, unsubscribe_token

logger = logging.getLogger("newsletter.delivery")

OPEN = (Delivery.Status.PENDING, Delivery.Status.SENDING)
RATE_WINDOW_SECONDS = 10
# Every socket operation of a batch ends this long (at most a quarter of the lease) before the lease does,
# leaving time to record the result while the row is still this batch's.
LEASE_MARGIN_SECONDS = 1.0


class SendError(ValidationError):
    """The issue cannot be sent (or scheduled) as asked; the message says why."""


# The editor's side ------------------------------------------------------------------------


def can_send(issue, user=None):
    """Reasons the issue cannot be sent or scheduled now (by `user`, when given); an empty list means it can."""
    if issue.status == Issue.Status.IMPORTED:
        return ["Imported issues are part of the archive and are never sent."]
    problems = []
    if issue.status not in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
        problems.append(f"It is {issue.get_status_display().lower()}; only a draft or scheduled issue can be sent.")
    if issue.newsletter.requires_approval and not issue.approved_at:
        problems.append("This newsletter needs a second editor to approve each issue before it is sent.")
    elif issue.newsletter.requires_approval and user is not None and issue.approved_by_id == user.pk:
        problems.append("You approved this issue; a second editor must be the one to send it.")
    return problems


def audience(issue):
    """Subscriptions that would receive the issue if it were sent now."""
    return Subscription.objects.active().filter(newsletter_id=issue.newsletter_id)


def audience_count(issue):
    return audience(issue).count()


def start_send(issue, user=None):
    """Start sending: freeze what is mailed onto the issue, mark it SENDING, queue send_issue after commit.

    Safe against double clicks and concurrent beats: only one caller moves the issue out of
    DRAFT/SCHEDULED (a compare-and-set update); the others get SendError.
    """
    problems = can_send(issue, user)
    if problems:
        raise SendError(" ".join(problems))
    rendered = render_issue(issue)
    now = timezone.now()
    changes = {
        "status": Issue.Status.SENDING,
        "send_started_at": now,
        "sent_subject": rendered.subject[:200],
        "sent_html": rendered.html,
        "sent_text": rendered.text,
    }
    if user is not None:
        changes["send_started_by"] = user
    with transaction.atomic():
        claimed = Issue.objects.filter(pk=issue.pk, status__in=[Issue.Status.DRAFT, Issue.Status.SCHEDULED]).update(
            **changes
        )
        if not claimed:
            raise SendError("This issue is already being sent.")
        _queue_send_issue(issue.pk)
        archive_changed()  # the issue is on the web from now on
    issue.refresh_from_db()
    logger.info(json.dumps({"event": "send_started", "issue": issue.pk, "html_bytes": rendered.html_size}))
    return issue


def schedule(issue, when, user=None):
    """Send the issue once at `when`; beat's sweep picks it up (no long Celery ETA)."""
    problems = can_send(issue, user)
    if problems:
        raise SendError(" ".join(problems))
    if when <= timezone.now():
        raise SendError("Choose a time in the future, or send it now.")
    changes = {"status": Issue.Status.SCHEDULED, "scheduled_for": when}
    if user is not None:
        changes["send_started_by"] = user
    if not Issue.objects.filter(pk=issue.pk, status__in=[Issue.Status.DRAFT, Issue.Status.SCHEDULED]).update(**changes):
        raise SendError("This issue is already being sent.")
    issue.refresh_from_db()
    return issue


def cancel_schedule(issue):
    """Back to draft; False when sending had already started."""
    cancelled = Issue.objects.filter(pk=issue.pk, status=Issue.Status.SCHEDULED).update(
        status=Issue.Status.DRAFT, scheduled_for=None
    )
    issue.refresh_from_db()
    return bool(cancelled)


def pause(issue):
    """Stop claiming new batches (batches in flight finish). False when it was not sending."""
    paused = Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(status=Issue.Status.PAUSED)
    issue.refresh_from_db()
    return bool(paused)


def resume(issue):
    """Carry on after a pause; the failure share is judged afresh from here."""
    with transaction.atomic():
        resumed = Issue.objects.filter(pk=issue.pk, status=Issue.Status.PAUSED).update(status=Issue.Status.SENDING)
        if resumed:
            _set_pause_mark(issue.pk)
            _queue_send_issue(issue.pk)  # freezes the audience if a pause came first, then queues the batches
    issue.refresh_from_db()
    return bool(resumed)


def retry_failed(issue):
    """Send the issue's failed deliveries again (only those); returns how many."""
    with transaction.atomic():
        count = Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, retry_after=None, leased_until=None
        )
        if count:
            _set_pause_mark(issue.pk)
            if issue.status in (Issue.Status.SENDING, Issue.Status.SENT):
                _queue_batches(issue.pk, settings.DELIVERY_PARALLEL_BATCHES)
    return count


def progress(issue):
    """Counts for the admin and the send_issue command; `rate` is messages/s over the last few seconds."""
    now = timezone.now()
    status = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True).first()
    stored = IssueDeliveryStats.objects.filter(issue_id=issue.pk).values("total", "sent", "failed", "skipped").first()
    if stored:  # rows pruned by newsletter.housekeeping: the totals written before they went
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
    """Send one copy of the issue as it is now to each address, marked [Test]; touches no Delivery."""
    rendered = render_issue(issue)
    email = IssueEmail(issue, subject=f"[Test] {rendered.subject}", html=rendered.html, text=rendered.text)
    sent = 0
    with open_transport() as transport:
        for address in addresses:
            subscriber = Subscriber.objects.filter(email=address.strip().lower()).first()
            message = email.build(
                delivery_id=None,
                subscriber_id=subscriber.pk if subscriber else 0,
                address=address.strip(),
                name=subscriber.name if subscriber else "",
            )
            transport.send(message)
            sent += 1
    return sent


# The worker's side ------------------------------------------------------------------------


def send_issue(issue_id):
    """Freeze the audience into Delivery rows (once per issue), then queue the batch chains.

    Runs under a lock on the issue row, so a second call (a duplicated task, the sweep) waits
    for the first and then finds the rows there: the audience is frozen exactly once. Only
    subscriptions confirmed before the send started are included.
    """
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None or issue.status not in (Issue.Status.SENDING, Issue.Status.PAUSED):
            return 0
        frozen = None if Delivery.objects.filter(issue_id=issue_id).exists() else _freeze(issue)
        if frozen and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics, so claims use the index from the start
                cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
        if frozen == 0:
            _finish(issue_id)
            return 0
        _queue_batches(issue_id, settings.DELIVERY_PARALLEL_BATCHES)
    return frozen


def _freeze(issue):
    """One INSERT … SELECT: the database copies the audience into Delivery rows without a round trip per row.

    ON CONFLICT DO NOTHING keeps it idempotent (the unique (issue, subscriber) constraint); the
    WHERE on the outer SELECT is there for SQLite, whose parser needs it before ON CONFLICT.
    """
    eligible = (
        audience(issue)
        .filter(Q(confirmed_at__isnull=True) | Q(confirmed_at__lte=issue.send_started_at or timezone.now()))
        .values("subscriber_id")
    )
    select_sql, select_params = eligible.query.sql_with_params()
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table} "
            "(issue_id, subscriber_id, status, attempts, last_error, message_id, bounce, created_at) "
            f"SELECT %s, audience.subscriber_id, %s, 0, '', '', '', %s FROM ({select_sql}) AS audience WHERE 1 = 1 "
            "ON CONFLICT (issue_id, subscriber_id) DO NOTHING",
            [issue.pk, Delivery.Status.PENDING, created_at, *select_params],
        )
        total = cursor.rowcount
    logger.info(json.dumps({"event": "audience_frozen", "issue": issue.pk, "deliveries": total}))
    return total


@dataclass
class BatchResult:
    issue_id: int
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    released: int = 0
    lost: bool = False
    seconds: float = 0.0


def send_batch(issue_id):
    """Claim up to DELIVERY_BATCH_SIZE due deliveries of the issue, send them, record each, queue the next step."""
    started = time.monotonic()
    result = BatchResult(issue_id)
    issue = Issue.objects.select_related("newsletter").filter(pk=issue_id).first()
    if issue is None or issue.status not in (Issue.Status.SENDING, Issue.Status.SENT):
        return result  # paused, or gone: claim nothing
    lease = Lease(new_lease_token(), settings.DELIVERY_LEASE_SECONDS, started=time.monotonic())
    claimed = claim(issue_id, settings.DELIVERY_BATCH_SIZE, token=lease.token)
    result.claimed = len(claimed)
    if claimed:
        _send_claimed(issue, claimed, result, lease)
    result.seconds = round(time.monotonic() - started, 3)
    if claimed:
        logger.info(
            json.dumps(
                {
                    "event": "batch",
                    "issue": issue_id,
                    "batch": result.claimed,
                    "sent": result.sent,
                    "failed": result.failed,
                    "retrying": result.retrying,
                    "skipped": result.skipped,
                    "released": result.released,
                    "renewals": lease.renewals,
                    "seconds": result.seconds,
                }
            )
        )
    _next_step(issue_id, had_work=bool(claimed))
    return result


def claim(issue_id, limit, now=None, token=None):
    """Take a lease on up to `limit` due deliveries of the issue; returns their ids.

    Every claimed row carries `token` (one per claim): every later write of this batch checks it,
    so once another worker has taken a row over, this one can no longer change it.
    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so concurrent workers take different rows
    without waiting. Elsewhere (SQLite): a compare-and-set UPDATE that re-checks due() and
    writes the token, then reads back the rows carrying it.
    """
    now = now or timezone.now()
    token = token or new_lease_token()
    claim_fields = {
        "status": Delivery.Status.SENDING,
        "attempts": F("attempts") + 1,
        "retry_after": None,
        "leased_until": now + datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
        "lease_token": token,
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Fresh rows first, without ORDER BY, so the index scan stops after `limit` rows instead of
            # reading every pending row of a 100,000-recipient send; retries and expired leases after.
            fresh = Delivery.objects.filter(issue_id=issue_id, status=Delivery.Status.PENDING, retry_after=None)
            ids = list(fresh.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
            if len(ids) < limit:
                due = Delivery.objects.due(now).filter(issue_id=issue_id).exclude(id__in=ids).order_by("id")
                ids += list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[: limit - len(ids)])
            if ids:
                Delivery.objects.filter(id__in=ids).update(**claim_fields)
            return ids
        due = Delivery.objects.due(now).filter(issue_id=issue_id).order_by("id")
        candidates = list(due.values_list("id", flat=True)[:limit])
        if not candidates:
            return []
        Delivery.objects.due(now).filter(id__in=candidates).update(**claim_fields)
        return list(
            Delivery.objects.filter(id__in=candidates, status=Delivery.Status.SENDING, lease_token=token)
            .order_by("id")
            .values_list("id", flat=True)
        )


def new_lease_token():
    return secrets.randbits(62) + 1


class LeaseLost(Exception):
    """Another worker has taken over this batch's rows (its lease ran out): stop at once, write nothing."""


class Lease:
    """A batch's hold on the rows it claimed: the token its writes check, and when the hold ends.

    The lease is renewed (an UPDATE of the rows carrying the token) while the batch makes progress:
    before each message and whenever the SMTP server answers, once less than half of it is left. The
    SMTP transport ends every socket operation by `deadline`, a margin before the lease runs out
    by this worker's clock, so no message can outlive the lease, however slowly the server
    answers (newsletter.delivery.SMTPTransport).
    """

    def __init__(self, token, seconds, started):
        self.token, self.seconds = token, seconds
        self.margin = min(LEASE_MARGIN_SECONDS, seconds / 4)
        self.claimed_at = self.renewed_at = started  # time.monotonic() before the claim's UPDATE
        self.renewals = 0

    @property
    def deadline(self):
        return self.renewed_at + self.seconds - self.margin

    def held(self):
        return Delivery.objects.filter(status=Delivery.Status.SENDING, lease_token=self.token)

    def renew_if_due(self):
        """Once less than half the lease is left, extend it on every row this batch still holds.

        The rows carrying this claim's token are this batch's and nobody else's (a claim by
        another worker writes its own token), so renewing them is safe even when the lease has
        just run out. False when no row is held any more: another worker took them over.
        """
        if self.deadline - time.monotonic() > self.seconds / 2:
            return True
        started = time.monotonic()
        until = timezone.now() + datetime.timedelta(seconds=self.seconds)
        if not self.held().update(leased_until=until):
            return False
        self.renewed_at, self.renewals = started, self.renewals + 1
        return True


RECORD_SENT_SQL = (
    f"UPDATE {Delivery._meta.db_table} SET status = '{Delivery.Status.SENT}', sent_at = %s, message_id = %s, "
    f"leased_until = NULL, last_error = '' WHERE id = %s AND status = '{Delivery.Status.SENDING}' "
    "AND lease_token = %s"
)


def _send_claimed(issue, ids, result, lease):
    rows = list(
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list("id", "attempts", "subscriber_id", "subscriber__email", "subscriber__name")
    )
    # Someone who unsubscribed (or was suppressed, or erased) after the freeze gets nothing.
    subscriber_ids = [row[2] for row in rows if row[2]]
    active = set(
        Subscription.objects.active()
        .filter(newsletter_id=issue.newsletter_id, subscriber_id__in=subscriber_ids)
        .values_list("subscriber_id", flat=True)
    )
    hashes = {row[0]: email_hash(row[3]) for row in rows if row[3]}
    suppressed = set(Suppression.objects.filter(email_hash__in=hashes.values()).values_list("email_hash", flat=True))
    to_send, to_skip = [], []
    for row in rows:
        if row[2] in active and hashes.get(row[0]) not in suppressed:
            to_send.append(row)
        else:
            to_skip.append(row[0])
    if to_skip:
        result.skipped = lease.held().filter(id__in=to_skip).update(status=Delivery.Status.SKIPPED, leased_until=None)
    if not to_send:
        return
    email = IssueEmail(issue)
    limiter = RateLimiter(settings.DELIVERY_RATE_LIMIT)
    with open_transport() as transport, _asynchronous_commit(), connection.cursor() as cursor:
        for n, (delivery_id, attempts, subscriber_id, address, name) in enumerate(to_send):
            try:
                if time.monotonic() - lease.claimed_at > lease.seconds / 2:
                    # A slow server: give the rows not yet started back while they are still ours,
                    # so other workers share them instead of waiting behind this connection.
                    result.released = _release(lease, [row[0] for row in to_send[n:]])
                    break
                if not lease.renew_if_due():
                    raise LeaseLost("another worker took this batch's rows over")
                limiter.wait()
                message = email.build(delivery_id=delivery_id, subscriber_id=subscriber_id, address=address, name=name)
                try:
                    transport.send(message, lease)
                except TransientError as exc:
                    _record_transient(lease, delivery_id, attempts, str(exc), result)
                except PermanentError as exc:
                    _record(lease, delivery_id, Delivery.Status.FAILED, str(exc))
                    result.failed += 1
                else:
                    # The hot path: plain SQL, committed at once (autocommit), before the next message.
                    cursor.execute(RECORD_SENT_SQL, [timezone.now(), message.message_id, delivery_id, lease.token])
                    if cursor.rowcount != 1:
                        raise LeaseLost(f"delivery {delivery_id} was sent after another worker took it over")
                    result.sent += 1
            except LeaseLost as exc:
                transport.abandon()
                result.lost = True
                logger.error(json.dumps({"event": "lease_lost", "issue": issue.pk, "reason": str(exc)}))
                break


@contextlib.contextmanager
def _asynchronous_commit():
    """On PostgreSQL, don't wait for the WAL flush of each per-message UPDATE (about 2 ms each).

    A worker that dies loses nothing by this: the server still commits what it was sent.
    Only a crash of the PostgreSQL server itself could lose the last few hundred
    milliseconds of results (see docs/delivery.md), which would then be sent again.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def backoff_seconds(attempts):
    """Exponential backoff with jitter: base·2^(n-1), capped, then a random 50–100 % of it."""
    delay = min(settings.DELIVERY_BACKOFF_MAX_SECONDS, settings.DELIVERY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def _record_transient(lease, delivery_id, attempts, error, result):
    if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        _record(lease, delivery_id, Delivery.Status.FAILED, f"Gave up after {attempts} attempts: {error}")
        result.failed += 1
        return
    retry = timezone.now() + datetime.timedelta(seconds=backoff_seconds(attempts))
    _record(lease, delivery_id, Delivery.Status.PENDING, error, retry_after=retry)
    result.retrying += 1


def _record(lease, delivery_id, status, error, retry_after=None):
    """Write a result that is not "sent", only while this batch still holds the row."""
    if (
        not lease.held()
        .filter(pk=delivery_id)
        .update(status=status, leased_until=None, retry_after=retry_after, last_error=error[:2000])
    ):
        raise LeaseLost(f"delivery {delivery_id} was taken over before its result was recorded")


def _release(lease, ids):
    """Give back deliveries this batch claimed but will not send, while it still holds them."""
    return (
        lease.held()
        .filter(id__in=ids)
        .update(status=Delivery.Status.PENDING, leased_until=None, lease_token=None, attempts=F("attempts") - 1)
    )


def _next_step(issue_id, had_work):
    """After a batch: pause on too many failures, queue the next batch, wait for retries/leases, or finish."""
    if had_work and _too_many_failures(issue_id):
        if Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).update(status=Issue.Status.PAUSED):
            logger.warning(json.dumps({"event": "paused", "issue": issue_id, "reason": "failure share"}))
        return
    now = timezone.now()
    open_rows = Delivery.objects.filter(issue_id=issue_id, status__in=OPEN)
    fresh = Delivery.objects.filter(issue_id=issue_id, status=Delivery.Status.PENDING, retry_after=None)
    if fresh.exists() or Delivery.objects.due(now).filter(issue_id=issue_id).exists():
        _queue_batches(issue_id, 1)
        return
    waits = open_rows.aggregate(retry=Min("retry_after"), lease=Min("leased_until"))
    wake = min((t for t in waits.values() if t is not None), default=None)
    if wake is not None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:  # eager mode would spin; the sweep covers it there
            _queue_batches(issue_id, 1, countdown=max(0.5, (wake - now).total_seconds() + 0.1))
        return
    if not open_rows.exists() and Delivery.objects.filter(issue_id=issue_id).exists():
        _finish(issue_id)  # (an issue with no rows at all is not frozen yet: send_issue finishes or fills it)


def _finish(issue_id):
    if Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).update(
        status=Issue.Status.SENT, sent_at=timezone.now()
    ):
        archive_changed()
        logger.info(json.dumps({"event": "send_finished", "issue": issue_id}))


PAUSE_MARK_KEY = "delivery:pause-mark:{}"


def _set_pause_mark(issue_id):
    from django.core.cache import cache

    mark = Delivery.objects.filter(issue_id=issue_id).aggregate(m=Max("id"))["m"] or 0
    try:
        cache.set(PAUSE_MARK_KEY.format(issue_id), mark, timeout=30 * 24 * 3600)
    except Exception:  # a cache that is down must not stop a resume; the window then includes older rows
        logger.warning("could not store the pause mark for issue %s", issue_id, exc_info=True)


def _too_many_failures(issue_id):
    """True when failures pass DELIVERY_PAUSE_FAILURE_SHARE of the last DELIVERY_PAUSE_WINDOW finished deliveries."""
    from django.core.cache import cache

    if settings.DELIVERY_PAUSE_FAILURE_SHARE <= 0:
        return False
    try:
        mark = cache.get(PAUSE_MARK_KEY.format(issue_id)) or 0
    except Exception:
        mark = 0
    recent = list(
        Delivery.objects.filter(
            issue_id=issue_id, id__gt=mark, status__in=[Delivery.Status.SENT, Delivery.Status.FAILED]
        )
        .order_by("-id")
        .values_list("status", flat=True)[: settings.DELIVERY_PAUSE_WINDOW]
    )
    if len(recent) < settings.DELIVERY_PAUSE_MIN_FINISHED:
        return False
    failed = sum(1 for status in recent if status == Delivery.Status.FAILED)
    return failed / len(recent) > settings.DELIVERY_PAUSE_FAILURE_SHARE


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
                _queue_send_issue(issue_id)  # not frozen yet (or its task was lost): freezing is once only
            continue
        held = rows.filter(status=Delivery.Status.SENDING, leased_until__gte=now)
        if rows.due(now).exists():
            live = held.values("lease_token").distinct().count()  # batches sending right now
            _queue_batches(issue_id, max(1, settings.DELIVERY_PARALLEL_BATCHES - live))
        elif not rows.filter(status__in=OPEN).exists():
            _finish(issue_id)
        else:
            lease_ends = held.aggregate(first=Min("leased_until"))["first"]
            if lease_ends and (lease_ends - now).total_seconds() < settings.DELIVERY_SWEEP_SECONDS:
                _queue_batches(issue_id, 1, countdown=(lease_ends - now).total_seconds() + 0.1)
    return started


# Queueing (after commit) ----------------------------------------------------------------------


def _queue_send_issue(issue_id):
    from newsletter.tasks.delivery import send_issue_task

    transaction.on_commit(lambda: send_issue_task.delay(issue_id))


def _queue_batches(issue_id, count, countdown=None):
    from newsletter.tasks.delivery import send_batch_task

    def queue():
        for _ in range(count):
            send_batch_task.apply_async((issue_id,), countdown=countdown)

    transaction.on_commit(queue)


# Messages --------------------------------------------------------------------------------------


@dataclass
class OutgoingMessage:
    envelope_from: str
    to_address: str
    message_id: str
    raw: bytes
    # For backends that want an EmailMessage (the outbox, locmem, anymail providers).
    subject: str
    from_header: str
    to_header: str
    headers: dict
    html_values: dict
    text_values: dict
    html_template: str
    text_template: str

    @property
    def html(self):
        return fill(self.html_template, self.html_values)

    @property
    def text(self):
        return fill(self.text_template, self.text_values)

    def as_django_message(self):
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=self.envelope_from,
            to=[self.to_header],
            headers={"From": self.from_header, "Return-Path": f"<{self.envelope_from}>", **self.headers},
        )
        message.attach_alternative(self.html, "text/html")
        return message


def _one_line(value):
    return " ".join(str(value).split())


def _encode_header(value):
    return value if value.isascii() else Header(value, "utf-8").encode()


def _qp(value):
    # Quoted-printable in C (binascii), then CRLF line ends for SMTP.
    return binascii.b2a_qp(value.replace("\r\n", "\n").encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _qp_segments(body):
    """Split a body into quoted-printable bytes encoded once (lines without placeholders) and lines to
    fill and encode per recipient. Quoted-printable treats each line on its own, so encoding line
    runs separately gives the same bytes as encoding the whole: the body is encoded once per issue."""
    segments, static = [], []
    lines = body.replace("\r\n", "\n").split("\n")
    for n, line in enumerate(lines):
        line = line if n == len(lines) - 1 else line + "\n"
        if "%%" in line and any(p in line for p in PLACEHOLDERS):
            if static:
                segments.append(_qp("".join(static)))
                static = []
            segments.append(line)
        else:
            static.append(line)
    if static:
        segments.append(_qp("".join(static)))
    return segments


def _encode_segments(segments, values):
    return b"".join(s if isinstance(s, bytes) else _qp(fill(s, values)) for s in segments)


class IssueEmail:
    """Everything about an issue's email worked out once; build() makes one recipient's message.

    Per recipient this does only string substitution, two signed tokens, a quoted-printable
    pass and header formatting: no template, no CSS inlining, no email.message objects.
    """

    def __init__(self, issue, *, subject=None, html=None, text=None):
        newsletter = issue.newsletter
        self.issue, self.newsletter = issue, newsletter
        self.html = html if html is not None else issue.sent_html
        self.text = text if text is not None else issue.sent_text
        self.subject = _one_line(subject if subject is not None else issue.sent_subject)
        from_address = newsletter.sender_email or settings.DEFAULT_FROM_EMAIL
        self.domain = from_address.rpartition("@")[2] or "localhost"
        self.from_header = formataddr((_one_line(newsletter.sender_name or newsletter.name), from_address), "utf-8")
        self.headers = {
            "List-Id": f"{_encode_header(_one_line(newsletter.name))} <{newsletter.slug}.{self.domain}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        }
        if newsletter.reply_to:
            self.headers["Reply-To"] = newsletter.reply_to
        self.unsubscribe_mailto = bounces.unsubscribe_address(newsletter)
        # Token URLs by concatenation: reverse() once, not per recipient.
        self.unsubscribe_prefix = absolute(reverse("subscriptions:unsubscribe", args=["TOKEN"])).split("TOKEN")
        self.preferences_prefix = absolute(reverse("subscriptions:preferences", args=["TOKEN"])).split("TOKEN")
        self.boundary = "==newsletter-" + binascii.hexlify(random.randbytes(12)).decode()
        self.static_head = (
            f"From: {self.from_header}\r\nSubject: {_encode_header(self.subject)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
            + f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
        ).encode("utf-8")
        self.text_head = (
            f"\r\n--{self.boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self.html_head = (
            f"\r\n--{self.boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.dkim = DkimSigner.from_settings()
        self.html_segments = _qp_segments(self.html)
        self.text_segments = _qp_segments(self.text)

    def build(self, *, delivery_id, subscriber_id, address, name):
        name = _one_line(name or "")
        unsub_token = unsubscribe_token(subscriber_id, self.newsletter.pk)
        unsubscribe_url = unsub_token.join(self.unsubscribe_prefix)
        preferences_url = preferences_token(subscriber_id).join(self.preferences_prefix)
        html_values, text_values = substitutions(
            name=name, unsubscribe_url=unsubscribe_url, preferences_url=preferences_url
        )
        if delivery_id is None:  # a test send
            message_id = make_msgid(domain=self.domain)
            envelope_from = bounces.bounce_address(self.newsletter)
        else:
            # Stable per delivery: a copy sent again after a crash carries the same Message-ID,
            # which many receiving systems use to drop duplicates.
            message_id = f"<issue{self.issue.pk}.d{delivery_id}@{self.domain}>"
            envelope_from = bounces.verp_address(delivery_id, self.newsletter)
        to_header = formataddr((name, address), "utf-8")
        mailto = f"mailto:{self.unsubscribe_mailto}?subject=unsubscribe%20{unsub_token}"
        list_unsubscribe = f"<{unsubscribe_url}>,\r\n <{mailto}>"
        personal = (
            f"To: {to_header}\r\nDate: {formatdate(usegmt=True)}\r\nMessage-ID: {message_id}\r\n"
            f"List-Unsubscribe: {list_unsubscribe}\r\n"
        ).encode()
        raw = b"".join(
            (
                personal,
                self.static_head,
                self.text_head,
                _encode_segments(self.text_segments, text_values),
                self.html_head,
                _encode_segments(self.html_segments, html_values),
                self.tail,
            )
        )
        if self.dkim:
            raw = self.dkim.sign(raw) + raw
        return OutgoingMessage(
            envelope_from=envelope_from,
            to_address=address,
            message_id=message_id,
            raw=raw,
            subject=self.subject,
            from_header=self.from_header,
            to_header=to_header,
            headers={
                **self.headers,
                "Message-ID": message_id,
                "List-Unsubscribe": list_unsubscribe.replace("\r\n", ""),
            },
            html_values=html_values,
            text_values=text_values,
            html_template=self.html,
            text_template=self.text,
        )


class DkimSigner:
    """In-app DKIM (dkimpy), when DKIM_PRIVATE_KEY_FILE, DKIM_SELECTOR and DKIM_DOMAIN are set."""

    HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"list-id"]
    HEADERS += [b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type"]

    def __init__(self, key, selector, domain):
        self.key, self.selector, self.domain = key, selector.encode(), domain.encode()

    @classmethod
    def from_settings(cls):
        if not (settings.DKIM_PRIVATE_KEY_FILE and settings.DKIM_SELECTOR and settings.DKIM_DOMAIN):
            return None
        with open(settings.DKIM_PRIVATE_KEY_FILE, "rb") as key_file:
            return cls(key_file.read(), settings.DKIM_SELECTOR, settings.DKIM_DOMAIN)

    def sign(self, raw):
        import dkim

        return dkim.sign(raw, self.selector, self.domain, self.key, include_headers=self.HEADERS)


# Transports --------------------------------------------------------------------------------------


class TransientError(Exception):
    """Try again later: a 4xx answer, a dropped or refused connection, a timeout."""


class PermanentError(Exception):
    """Do not try again: a 5xx answer, or an address that cannot be sent to."""


def _classify(code, text):
    reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}".strip()
    if 400 <= code < 500:
        return TransientError(reason)
    return PermanentError(reason)


class _DeadlineMixin:
    """smtplib with a deadline for the whole conversation, not only a timeout per socket operation.

    Every connect, write and read is given min(timeout, time left until `lease.deadline`), re-read
    before each operation (the lease may have been renewed), so one message can never run past
    the lease however slowly the server drips its answers. Each answer received is progress: the
    lease is renewed then when it is due.
    """

    lease = None

    def _budget(self):
        if self.lease is None:
            return self.timeout
        left = self.lease.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the lease ends before the server has answered")
        return min(self.timeout, left)

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(host, port, self._budget())

    def send(self, s):
        if self.sock:
            self.sock.settimeout(self._budget())
        super().send(s)

    def getreply(self):
        if self.file is None and self.sock:
            self.file = io.BufferedReader(_DeadlineSocketIO(self.sock, self._budget))
        reply = super().getreply()
        if self.lease is not None:
            self.lease.renew_if_due()  # a row taken over shows when its result is written
        return reply


class _DeadlineSocketIO(socket.SocketIO):
    """Reads that each get the time left, not a fresh full timeout (a server dripping bytes)."""

    def __init__(self, sock, budget):
        super().__init__(sock, "rb")
        self._budget = budget

    def readinto(self, buffer):
        self._sock.settimeout(self._budget())
        return super().readinto(buffer)


class _SMTP(_DeadlineMixin, smtplib.SMTP):
    pass


class _SMTP_SSL(_DeadlineMixin, smtplib.SMTP_SSL):
    pass


class SMTPTransport:
    """One SMTP connection reused for a whole batch (EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS/SSL, …).

    After an error the session is reset (RSET), or dropped and reopened on the next message,
    so one refused address or one dropped connection does not fail the rest of the batch.
    """

    def __init__(self):
        self.timeout = settings.DELIVERY_SMTP_TIMEOUT
        self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _connect(self, lease):
        conn = (_SMTP_SSL if getattr(settings, "EMAIL_USE_SSL", False) else _SMTP)(timeout=self.timeout)
        conn.lease = lease
        conn.connect(settings.EMAIL_HOST, settings.EMAIL_PORT)
        if getattr(settings, "EMAIL_USE_TLS", False):
            conn.starttls()
        if settings.EMAIL_HOST_USER:
            conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        return conn

    def close(self):
        if self.conn is not None:
            self.conn.lease = None  # QUIT is said after the last message; it renews nothing
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def abandon(self):
        """Drop the connection without a word (mid-conversation after a lost lease)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    _drop = abandon

    def _reset(self, code=None):
        if code == 421:  # the server is closing the session
            self._drop()
            return
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def send(self, message, lease=None):
        try:
            if self.conn is None:
                self.conn = self._connect(lease)
            self.conn.lease = lease
            self.conn.sendmail(message.envelope_from, [message.to_address], message.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(message.to_address, (550, b"refused"))
            self._reset(code)
            raise _classify(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, 4xx/5xx at connect
            self._reset(exc.smtp_code)
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientError(f"connection lost: {exc or type(exc).__name__}") from exc
        except (smtplib.SMTPException, UnicodeError, ValueError) as exc:
            self._reset()
            raise PermanentError(f"cannot send to this address: {exc}") from exc


class DjangoBackendTransport:
    """Any other EMAIL_BACKEND (the file outbox with no EMAIL_URL, locmem in tests, anymail providers)."""

    def __init__(self):
        self.timeout = settings.DELIVERY_SMTP_TIMEOUT
        self.backend = get_connection(fail_silently=False)

    def __enter__(self):
        self.backend.open()
        return self

    def __exit__(self, *exc):
        self.backend.close()

    def abandon(self):
        pass

    def send(self, message, lease=None):
        try:
            self.backend.send_messages([message.as_django_message()])
        except OSError as exc:
            raise TransientError(str(exc)) from exc
        except Exception as exc:
            raise PermanentError(str(exc)) from exc


def open_transport():
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SMTPTransport()
    return DjangoBackendTransport()


class RateLimiter:
    """DELIVERY_RATE_LIMIT messages per second across all workers: a per-second counter in the cache (Redis)."""

    def __init__(self, per_second):
        self.per_second = per_second

    def wait(self):
        if not self.per_second:
            return
        from newsletter.ratelimit import hit

        while True:
            now = time.time()
            if hit("delivery:send", 1, now=now) <= self.per_second:
                return
            time.sleep(max(0.001, 1 - (now % 1)))
