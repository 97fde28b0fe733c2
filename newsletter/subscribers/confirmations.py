"""Confirmation mails: at most one per address per CONFIRMATION_MIN_INTERVAL, and never a promise without a mail.

`Subscriber.last_confirmation_sent_at` holds the time of the last confirmation mail to the address or,
while one is planned, the time it is planned for (then in the future). Every change of it is a
compare-and-set UPDATE, so two requests at once never queue two mails for one slot.

`request_confirmation(subscriber)`, for a request that leaves subscriptions pending, decides:

- NOW:   nothing went out within the interval (or an editor forces it): mark now, send after commit.
- LATER: a mail went out less than the interval ago and something pending is newer than it: one is
         planned for the moment the interval ends (queued with that ETA); or one is planned already,
         and it covers this too: a confirmation mail covers every subscription still pending when it
         goes out, so one mail names every newsletter waiting for this address.
- SENT:  a mail went out less than the interval ago and everything pending was already pending
         then (last changed before it), so it covers them all: nothing more is sent.

The planned task claims its slot when it runs (`claim_planned`): only the task that still finds its
planned time there sends, so a forced mail meanwhile or a duplicate delivery of the task sends nothing.
"""

import dataclasses
import datetime
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.models import Subscriber, Subscription


@dataclasses.dataclass(frozen=True)
class ConfirmationPlan:
    """What happens about the confirmation mail: when (NOW, LATER, SENT or NOTHING), at what time, and which
    newsletters it names (at least those pending now)."""

    NOW = "now"
    LATER = "later"
    SENT = "sent"
    NOTHING = "nothing"  # nothing is pending

    when: str
    at: datetime.datetime | None = None
    newsletters: tuple = ()

    @property
    def on_its_way(self):
        """A mail goes out because of this request, now or when the interval ends."""
        return self.when in (self.NOW, self.LATER)

    def minutes(self, now=None):
        """Whole minutes between now and the mail (rounded up when it lies ahead, down when it went out)."""
        seconds = abs((self.at - (now or timezone.now())).total_seconds()) if self.at else 0
        return math.ceil(seconds / 60) if self.when == self.LATER else math.floor(seconds / 60)


def interval():
    return datetime.timedelta(seconds=settings.CONFIRMATION_MIN_INTERVAL)


def _queue(subscriber_id, name, planned_for=None, language=""):
    from newsletter.subscribers.tasks import send_confirmation

    args = (subscriber_id, name) if name else (subscriber_id,)
    options = {"language": language} if language else {}  # the mail's language (else the subscriber's)
    if planned_for is None:
        transaction.on_commit(lambda: send_confirmation.delay(*args, **options))
    else:
        kwargs = {"planned_for": planned_for.isoformat(), **options}
        transaction.on_commit(lambda: send_confirmation.apply_async(args, kwargs, eta=planned_for))


def request_confirmation(subscriber, force=False, name="", language=""):
    """Make sure a confirmation mail covers the subscriber's pending subscriptions; returns the ConfirmationPlan.

    A name goes into the link of a mail this call queues, to be applied when the person confirms; a
    request that finds a mail already planned or sent adds nothing to it, so its name is dropped. A mail this
    call queues is in `language` (the one chosen with the request), else in the subscriber's.
    """
    pending = list(
        subscriber.subscriptions.filter(status=Subscription.Status.PENDING)
        .select_related("newsletter")
        .order_by("newsletter__name")
    )
    newsletters = tuple(s.newsletter for s in pending)
    if not pending:
        return ConfirmationPlan(ConfirmationPlan.NOTHING)
    row = Subscriber.objects.filter(pk=subscriber.pk)
    # Each pass reads the mark, then changes it only if it is still what was read; a lost race reads again.
    for _ in range(10):
        now = timezone.now()
        last = row.values_list("last_confirmation_sent_at", flat=True).first()
        if force or last is None or last <= now - interval():
            free = row if force else row.filter(last_confirmation_sent_at=last)  # =None is IS NULL
            if free.update(last_confirmation_sent_at=now):
                _queue(subscriber.pk, name, language=language)
                return _plan(subscriber, ConfirmationPlan.NOW, now, newsletters)
        elif last > now:
            # Planned already: keep it (this UPDATE also makes the planned task's claim wait for our commit,
            # so the mail sees what this request made pending).
            if row.filter(last_confirmation_sent_at=last).update(last_confirmation_sent_at=last):
                return _plan(subscriber, ConfirmationPlan.LATER, last, newsletters)
        elif all(s.updated_at <= last for s in pending):
            return _plan(subscriber, ConfirmationPlan.SENT, last, newsletters)
        else:
            slot = last + interval()
            if row.filter(last_confirmation_sent_at=last).update(last_confirmation_sent_at=slot):
                _queue(subscriber.pk, name, planned_for=slot, language=language)
                return _plan(subscriber, ConfirmationPlan.LATER, slot, newsletters)
    raise RuntimeError(f"could not plan a confirmation mail for subscriber {subscriber.pk}")


def _plan(subscriber, when, at, newsletters):
    subscriber.last_confirmation_sent_at = at
    return ConfirmationPlan(when, at, newsletters)


def claim_planned(subscriber_id, planned_for):
    """The planned mail's own compare-and-set: True for the one task that still holds its slot.

    The mark becomes the time the mail really goes out, so the next interval counts from then.
    """
    planned_for = datetime.datetime.fromisoformat(planned_for)
    claimed = Subscriber.objects.filter(pk=subscriber_id, last_confirmation_sent_at=planned_for)
    return bool(claimed.update(last_confirmation_sent_at=timezone.now()))
