"""A batch's claim on its deliveries: the lease, its token, and the writes that check it.

Exactly once. A delivery is sent only by the worker holding its lease (status SENDING,
leased_until in the future); a lease is taken with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, or a compare-and-set UPDATE elsewhere, so two workers never hold one delivery.
The lease is renewed while the server answers and no socket operation runs past it
(newsletter.mail.transport); every write after sending checks the claim's token, so a worker
that lost its lease changes nothing. The window that remains is in docs/delivery.md.
"""

import datetime
import random
import secrets
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from newsletter.models import (
    Delivery,
)

# Every socket operation of a batch ends this long (at most a quarter of the lease) before the lease does,
# leaving time to record the result while the row is still this batch's.
LEASE_MARGIN_SECONDS = 1.0


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
    answers (newsletter.mail.transport).
    """

    def __init__(self, token, seconds, started):
        self.token, self.seconds = token, seconds
        self.margin = min(LEASE_MARGIN_SECONDS, seconds / 4)
        self.claimed_at = self.renewed_at = started  # time.monotonic() before the claim's UPDATE
        self.renewals = 0
        self.recorder = None  # newsletter.sending.results.Recorder, while a batch records through it

    def quiet(self):
        """Wait for every result still in flight (results.Recorder): before any other use of the connection."""
        if self.recorder is not None:
            self.recorder.settle()

    def before_accepting(self):
        """Before the SMTP server may accept the next message: every result but the last one's confirmed."""
        if self.recorder is not None:
            self.recorder.settle(keep=1)

    @property
    def deadline(self):
        return self.renewed_at + self.seconds - self.margin

    def held(self):
        self.quiet()  # every write that checks the token comes through here
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


def record_transient(lease, delivery_id, attempts, error, result):
    if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        record(lease, delivery_id, Delivery.Status.FAILED, f"Gave up after {attempts} attempts: {error}")
        result.failed += 1
        return
    retry = timezone.now() + datetime.timedelta(seconds=backoff_seconds(attempts))
    record(lease, delivery_id, Delivery.Status.PENDING, error, retry_after=retry)
    result.retrying += 1


def record(lease, delivery_id, status, error, retry_after=None):
    """Write a result that is not "sent", only while this batch still holds the row."""
    if (
        not lease.held()
        .filter(pk=delivery_id)
        .update(status=status, leased_until=None, retry_after=retry_after, last_error=error[:2000])
    ):
        raise LeaseLost(f"delivery {delivery_id} was taken over before its result was recorded")


def release(lease, ids):
    """Give back deliveries this batch claimed but will not send, while it still holds them."""
    return (
        lease.held()
        .filter(id__in=ids)
        .update(status=Delivery.Status.PENDING, leased_until=None, lease_token=None, attempts=F("attempts") - 1)
    )


def backoff_seconds(attempts):
    """Exponential backoff with jitter: base·2^(n-1), capped, then a random 50–100 % of it."""
    delay = min(settings.DELIVERY_BACKOFF_MAX_SECONDS, settings.DELIVERY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)
