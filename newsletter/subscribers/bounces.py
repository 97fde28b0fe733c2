"""What bounces, complaints and mailed unsubscribes do to subscribers.

- Every delivery is sent with its own VERP envelope sender (newsletter.mail.addresses): a
  delivery status notification comes back to that address, which says which delivery bounced.
- ``process_bounces()`` reads a mailbox (newsletter.mail.inbound) and applies the rules:
  one hard bounce marks the subscriber bounced; three soft bounces within 30 days likewise;
  a complaint (an ARF feedback report) unsubscribes. Each is recorded on the delivery.
- Mail to the List-Unsubscribe mailto address unsubscribes its sender.
- django-anymail's tracking webhooks (``anymail.signals.tracking``) go through the same rules.
Ending subscriptions and suppressing the address is newsletter.subscribers.lifecycle's one rule
(`end_subscriptions` with Reason.BOUNCE, COMPLAINT, MAILED or PROVIDER). Addresses from outside
(a From header, a provider's recipient) are matched through newsletter.addresses.canonical_address.
"""

import datetime
import logging
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from newsletter import events
from newsletter.addresses import canonical_address
from newsletter.mail.inbound import classify_message, read_imap, read_maildir
from newsletter.models import Delivery, Subscriber
from newsletter.subscribers.lifecycle import Reason, end_subscriptions
from newsletter.tokens import BadToken, read_unsubscribe_token

logger = logging.getLogger("newsletter.bounces")

SOFT_BOUNCE_LIMIT = Delivery.SOFT_BOUNCE_LIMIT
SOFT_BOUNCE_DAYS = Delivery.SOFT_BOUNCE_DAYS


def record_bounce(delivery, kind, reason="", now=None):
    """Record a hard/soft bounce or a complaint on the delivery, then apply the subscriber rules.

    Returns what happened to the subscriber: "bounced", "unsubscribed" or "".
    """
    now = now or timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(bounce=kind, bounced_at=now)
        if reason:
            Delivery.objects.filter(pk=delivery.pk, last_error="").update(last_error=reason[:2000])
        events.delivery_bounced.send(sender=Delivery, delivery=delivery, kind=kind)
        subscriber = delivery.subscriber
        if subscriber is None:
            return ""
        if kind == Delivery.Bounce.COMPLAINT:
            end_subscriptions(subscriber, reason=Reason.COMPLAINT)
            return "unsubscribed"
        if kind == Delivery.Bounce.SOFT:
            recent = Delivery.objects.filter(
                subscriber=subscriber,
                bounce=Delivery.Bounce.SOFT,
                bounced_at__gte=now - datetime.timedelta(days=SOFT_BOUNCE_DAYS),
            ).count()
            if recent < SOFT_BOUNCE_LIMIT:
                return ""
        end_subscriptions(subscriber, reason=Reason.BOUNCE)
        return "bounced"


def unsubscribe_by_mail(sender_address, token=None):
    """A message to the List-Unsubscribe mailto: unsubscribe its sender (from the token's newsletter when
    the subject carries a valid token, else from every newsletter). Returns how many subscriptions ended."""
    subscriber = Subscriber.objects.filter(email=canonical_address(sender_address)).first()
    newsletter_id = None
    if token:
        try:
            subscriber_id, newsletter_id = read_unsubscribe_token(token)
        except BadToken:
            newsletter_id = None
        else:
            # The token names the subscriber even when the reply comes from another address (forwarding).
            subscriber = Subscriber.objects.filter(pk=subscriber_id).first() or subscriber
    if subscriber is None:
        return 0
    newsletters = [newsletter_id] if newsletter_id else None
    return end_subscriptions(subscriber, newsletters, Reason.MAILED).count


def unsubscribe_by_provider(recipient):
    """The provider's webhook says the recipient unsubscribed (its own link or List-Unsubscribe handling): every
    newsletter. Returns how many subscriptions ended."""
    subscriber = Subscriber.objects.filter(email=canonical_address(recipient)).first()
    if subscriber is None:
        return 0
    return end_subscriptions(subscriber, reason=Reason.PROVIDER).count


@dataclass
class BounceReport:
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    subscribers_bounced: int = 0
    ignored: int = 0
    details: list = field(default_factory=list)

    def line(self):
        return (
            f"{self.hard} hard bounce(s), {self.soft} soft bounce(s), {self.complaints} complaint(s), "
            f"{self.unsubscribes} unsubscribe(s) by mail, {self.subscribers_bounced} subscriber(s) marked bounced, "
            f"{self.ignored} message(s) ignored"
        )


def handle_message(message, report):
    kind, delivery_id, reason = classify_message(message)
    if kind == "unsubscribe":
        sender = parseaddr(message.get("From", ""))[1]
        subject = str(message.get("Subject", ""))
        token = subject.split()[-1] if subject.split() else None
        ended = unsubscribe_by_mail(sender, token=token if token and token.lower() != "unsubscribe" else None)
        report.unsubscribes += ended
        report.ignored += 0 if ended else 1
        return
    delivery = Delivery.objects.select_related("subscriber").filter(pk=delivery_id).first() if delivery_id else None
    if kind is None or delivery is None:
        report.ignored += 1
        return
    outcome = record_bounce(delivery, kind, reason)
    report.hard += kind == Delivery.Bounce.HARD
    report.soft += kind == Delivery.Bounce.SOFT
    report.complaints += kind == Delivery.Bounce.COMPLAINT
    report.subscribers_bounced += outcome == "bounced"
    report.details.append({"delivery": delivery.pk, "kind": kind, "outcome": outcome, "reason": reason})


def process_maildir(path, report=None):
    report = report or BounceReport()
    read_maildir(path, lambda message: handle_message(message, report))
    return report


def process_imap(url, report=None):
    report = report or BounceReport()
    read_imap(url, lambda message: handle_message(message, report))
    return report


def process_bounces(maildir=None, imap_url=None):
    """process_bounces: a Maildir path when given, else BOUNCE_IMAP_URL."""
    if maildir:
        return process_maildir(maildir)
    url = imap_url or settings.BOUNCE_IMAP_URL
    if not url:
        raise ValueError("Give a Maildir path or set BOUNCE_IMAP_URL.")
    return process_imap(url)


# django-anymail tracking webhooks ------------------------------------------------------------

ANYMAIL_KINDS = {"bounced": Delivery.Bounce.HARD, "deferred": Delivery.Bounce.SOFT, "complained": "complaint"}


def _delivery_for_event(event):
    metadata = getattr(event, "metadata", None) or {}
    if metadata.get("delivery_id"):
        return Delivery.objects.select_related("subscriber").filter(pk=metadata["delivery_id"]).first()
    if event.message_id:
        found = Delivery.objects.select_related("subscriber").filter(message_id=event.message_id).first()
        if found:
            return found
    if event.recipient:
        return (
            Delivery.objects.select_related("subscriber")
            .filter(subscriber__email=canonical_address(event.recipient), status=Delivery.Status.SENT)
            .order_by("-sent_at")
            .first()
        )
    return None


def handle_tracking_event(event, esp_name=""):
    """One anymail tracking event: bounced → hard, deferred → soft, complained → complaint, unsubscribed."""
    if event.event_type == "unsubscribed" and event.recipient:
        return unsubscribe_by_provider(event.recipient)
    kind = ANYMAIL_KINDS.get(event.event_type)
    if kind is None:
        return None
    delivery = _delivery_for_event(event)
    if delivery is None:
        logger.info("anymail %s event for an unknown delivery (%s)", event.event_type, esp_name)
        return None
    return record_bounce(delivery, kind, f"{esp_name}: {event.description or event.reject_reason or ''}".strip())


try:
    from anymail.signals import tracking
except ImportError:  # anymail not installed: no webhooks
    tracking = None

if tracking is not None:

    @receiver(tracking, dispatch_uid="newsletter.bounces.anymail_tracking")
    def anymail_tracking(sender, event, esp_name, **kwargs):
        handle_tracking_event(event, esp_name)
