"""The worker's side of sending (newsletter/sending/tasks.py calls these):

    send_issue(issue_id)    freeze the audience into Delivery rows once, then queue the batch chains
    send_batch(issue_id)    claim up to DELIVERY_BATCH_SIZE due deliveries, send them over one SMTP
                            connection, record each as it goes, then queue what comes next

Each result is on its way to the database the moment the SMTP server answers, before the next message goes out
(newsletter/sending/results.py), so a worker that dies loses at most the message in flight: its lease runs out and
another worker sends it.
"""

import contextlib
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from newsletter import events
from newsletter.mail.message import IssueEmail
from newsletter.mail.transport import PermanentError, TransientError, open_transport
from newsletter.models import (
    Delivery,
    Issue,
    IssueEdition,
    Subscription,
    Suppression,
    email_hash,
)
from newsletter.ratelimit import RateLimiter
from newsletter.sending import editions
from newsletter.sending.lease import (
    Lease,
    LeaseLost,
    claim,
    new_lease_token,
    record,
    record_transient,
    release,
)
from newsletter.sending.queue import queue_batches
from newsletter.sending.results import Recorder

logger = logging.getLogger("newsletter.delivery")

OPEN = (Delivery.Status.PENDING, Delivery.Status.SENDING)


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
        frozen = None if Delivery.objects.filter(issue_id=issue_id).exists() else freeze(issue)
        if frozen and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics, so claims use the index from the start
                cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
        if frozen == 0:
            finish(issue_id)
            return 0
        queue_batches(issue_id, settings.DELIVERY_PARALLEL_BATCHES)
    return frozen


def freeze(issue):
    """One INSERT … SELECT: the database copies the audience into Delivery rows without a round trip per row.

    ON CONFLICT DO NOTHING keeps it idempotent (the unique (issue, subscriber) constraint); the
    WHERE on the outer SELECT is there for SQLite, whose parser needs it before ON CONFLICT.
    """
    plan = issue.send_plan
    eligible = editions.audience(issue, plan).filter(
        Q(confirmed_at__isnull=True) | Q(confirmed_at__lte=issue.send_started_at or timezone.now())
    )
    # Editions (personal ones, and a bilingual newsletter's second language), each rendered once; then each
    # subscription's topic key and language pick its edition in the same INSERT … SELECT. A key not planned
    # (changed in between) gets its language's whole issue, or NULL: the whole issue as stored at send start.
    newsletter = issue.newsletter
    bilingual = newsletter.is_bilingual
    mapping = editions.EditionMapping()
    if _personal(plan) or bilingual:
        mapping = editions.create_editions(issue, plan, editions.language_counts(eligible, newsletter))
    edition_sql, edition_params = _edition_case(mapping)
    audience = eligible.with_reader_language(newsletter).values("subscriber_id", "topics", "reader_language")
    select_sql, select_params = audience.query.sql_with_params()
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Delivery._meta.db_table} "
            "(issue_id, subscriber_id, status, attempts, last_error, message_id, bounce, created_at, edition_id) "
            f"SELECT %s, audience.subscriber_id, %s, 0, '', '', '', %s, {edition_sql} "
            f"FROM ({select_sql}) AS audience WHERE 1 = 1 "
            "ON CONFLICT (issue_id, subscriber_id) DO NOTHING",
            [issue.pk, Delivery.Status.PENDING, created_at, *edition_params, *select_params],
        )
        total = cursor.rowcount
    logger.info(
        json.dumps({"event": "audience_frozen", "issue": issue.pk, "deliveries": total, "editions": mapping.count})
    )
    return total


def _edition_case(mapping):
    """The SQL (and its parameters) choosing each audience row's edition id from `mapping` (EditionMapping)."""
    if not mapping:
        return "NULL", []
    whens = "WHEN audience.topics = %s AND audience.reader_language = %s THEN %s " * len(mapping.by_key)
    whens += "WHEN audience.reader_language = %s THEN %s " * len(mapping.by_language)
    params = [value for (key, language), pk in mapping.by_key.items() for value in (key, language, pk)]
    params += [value for pair in mapping.by_language.items() for value in pair]
    return f"CASE {whens}ELSE NULL END", params


def _personal(plan):
    return bool(plan) and plan.get("mode") == editions.PERSONAL


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

    def add(self, other):
        for name in ("claimed", "sent", "failed", "retrying", "skipped", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lost = self.lost or other.lost


def send_batch(issue_id):
    """Claim up to DELIVERY_BATCH_SIZE due deliveries of the issue, send them, record each; claim again over the same
    SMTP connection while rows are due and the task has run less than DELIVERY_TASK_SECONDS; queue the next step."""
    started = time.monotonic()
    total = BatchResult(issue_id)
    issue = Issue.objects.select_related("newsletter").filter(pk=issue_id).first()
    if issue is None or issue.status not in SENDABLE:
        return total  # paused, or gone: claim nothing
    with open_transport() as transport:  # (an SMTP connection opens at the first message, if any)
        while True:
            result = _claim_and_send(issue, transport)
            total.add(result)
            if not result.claimed or result.lost or result.released:
                break
            # Another round saves a task's hop through the broker, a new SMTP session and the next-step queries
            # (about 45 ms a batch, issue 17); a pause, or the failure share, still stops it between rounds.
            if time.monotonic() - started >= settings.DELIVERY_TASK_SECONDS or _too_many_failures(issue_id):
                break
            if not Issue.objects.filter(pk=issue_id, status__in=SENDABLE).exists():
                break
    total.seconds = round(time.monotonic() - started, 3)
    _next_step(issue_id, had_work=bool(total.claimed))
    return total


SENDABLE = (Issue.Status.SENDING, Issue.Status.SENT)


def _claim_and_send(issue, transport):
    started = time.monotonic()
    result = BatchResult(issue.pk)
    lease = Lease(new_lease_token(), settings.DELIVERY_LEASE_SECONDS, started=started)
    claimed = claim(issue.pk, settings.DELIVERY_BATCH_SIZE, token=lease.token)
    result.claimed = len(claimed)
    if not claimed:
        return result
    send_claimed(issue, claimed, result, lease, transport)
    result.seconds = round(time.monotonic() - started, 3)
    logger.info(
        json.dumps(
            {
                "event": "batch",
                "issue": issue.pk,
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
    return result


def send_claimed(issue, ids, result, lease, transport=None):
    rows = list(
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list("id", "attempts", "subscriber_id", "subscriber__email", "subscriber__name", "edition_id")
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
    emails = _emails(issue, {row[5] for row in to_send})
    with contextlib.ExitStack() as stack:
        transport = transport or stack.enter_context(open_transport())
        stack.enter_context(_asynchronous_commit())
        recorder = Recorder(lease)
        try:
            _send_rows(issue, to_send, emails, transport, recorder, lease, result)
        finally:
            recorder.close()
            result.sent = recorder.confirmed


def _send_rows(issue, to_send, emails, transport, recorder, lease, result):
    limiter = RateLimiter(settings.DELIVERY_RATE_LIMIT)

    def build(row):
        delivery_id, _, subscriber, address, name, edition_id = row
        return emails[edition_id].build(delivery_id=delivery_id, subscriber_id=subscriber, address=address, name=name)

    try:
        upcoming = build(to_send[0])
        for n, (delivery_id, attempts, *_) in enumerate(to_send):
            if time.monotonic() - lease.claimed_at > lease.seconds / 2:
                # A slow server: give the rows not yet started back while they are still ours,
                # so other workers share them instead of waiting behind this connection.
                result.released = release(lease, [row[0] for row in to_send[n:]])
                break
            if not lease.renew_if_due():
                raise LeaseLost("another worker took this batch's rows over")
            limiter.wait()
            # Built one ahead, so its envelope can go out with this message's final dot (mail/transport.py).
            message, upcoming = upcoming, build(to_send[n + 1]) if n + 1 < len(to_send) else None
            try:
                transport.send(message, lease, next_message=upcoming)
            except TransientError as exc:
                record_transient(lease, delivery_id, attempts, str(exc), result)
            except PermanentError as exc:
                record(lease, delivery_id, Delivery.Status.FAILED, str(exc))
                result.failed += 1
            else:
                # The hot path: the UPDATE goes out now; its reply is awaited before the next message can be
                # accepted (newsletter/sending/results.py), so it overlaps building the message after next.
                recorder.sent(delivery_id, message.message_id, timezone.now())
        recorder.settle()
    except LeaseLost as exc:
        transport.abandon()
        result.lost = True
        logger.error(json.dumps({"event": "lease_lost", "issue": issue.pk, "reason": str(exc)}))


# A worker process keeps each edition's worked-out email between batches: with 64 editions nearly every
# batch of 100 sends several, and working one out (encoding, headers) costs about 0.5 ms. What is mailed
# is frozen at send start (sent_html, the editions), so only the newsletter's sender details could
# change meanwhile: an entry lives EMAIL_CACHE_SECONDS, so such a change reaches a send within that.
EMAIL_CACHE_SECONDS = 60
EMAIL_CACHE_SIZE = 256
_email_cache = {}


def _emails(issue, edition_ids):
    """{edition id: IssueEmail} for the editions this batch sends (None: the issue as stored at send start)."""
    now = time.monotonic()
    started = issue.send_started_at.isoformat() if issue.send_started_at else ""
    emails, missing = {}, []
    for edition_id in edition_ids:
        cached = _email_cache.get((issue.pk, started, edition_id))
        if cached and now - cached[0] < EMAIL_CACHE_SECONDS:
            emails[edition_id] = cached[1]
        else:
            missing.append(edition_id)
    fresh = {None: IssueEmail(issue)} if None in missing else {}
    for edition in IssueEdition.objects.filter(pk__in=[pk for pk in missing if pk is not None]):
        fresh[edition.pk] = IssueEmail(
            issue, subject=edition.subject, html=edition.html, text=edition.text, language=edition.language
        )
    if len(_email_cache) + len(fresh) > EMAIL_CACHE_SIZE:
        _email_cache.clear()
    for edition_id, email in fresh.items():
        _email_cache[(issue.pk, started, edition_id)] = (now, email)
    return {**emails, **fresh}


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


def _next_step(issue_id, had_work):
    """After a batch: pause on too many failures, queue the next batch, wait for retries/leases, or finish."""
    if had_work and _too_many_failures(issue_id):
        if Issue.objects.move(issue_id, Issue.Status.SENDING, Issue.Status.PAUSED):
            logger.warning(json.dumps({"event": "paused", "issue": issue_id, "reason": "failure share"}))
        return
    now = timezone.now()
    open_rows = Delivery.objects.filter(issue_id=issue_id, status__in=OPEN)
    fresh = Delivery.objects.filter(issue_id=issue_id, status=Delivery.Status.PENDING, retry_after=None)
    if fresh.exists() or Delivery.objects.due(now).filter(issue_id=issue_id).exists():
        queue_batches(issue_id, 1)
        return
    waits = open_rows.aggregate(retry=Min("retry_after"), lease=Min("leased_until"))
    wake = min((t for t in waits.values() if t is not None), default=None)
    if wake is not None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:  # eager mode would spin; the sweep covers it there
            queue_batches(issue_id, 1, countdown=max(0.5, (wake - now).total_seconds() + 0.1))
        return
    if not open_rows.exists() and Delivery.objects.filter(issue_id=issue_id).exists():
        finish(issue_id)  # (an issue with no rows at all is not frozen yet: send_issue finishes or fills it)


def finish(issue_id):
    """SENDING → SENT once no delivery is open (the move tells the page cache)."""
    if Issue.objects.move(issue_id, Issue.Status.SENDING, Issue.Status.SENT, sent_at=timezone.now()):
        logger.info(json.dumps({"event": "send_finished", "issue": issue_id}))
        events.issue_sent.send(sender=Issue, issue_id=issue_id)


PAUSE_MARK_KEY = "delivery:pause-mark:{}"


def set_pause_mark(issue_id):
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
