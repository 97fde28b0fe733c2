"""Bounces, complaints and mailed unsubscribes.

- Every delivery is sent with its own VERP envelope sender (Return-Path),
  ``bounces+<delivery id>.<signature>@<domain>``: a delivery status notification comes back
  to that address, and the address alone says which delivery bounced. The signature (an
  HMAC of the id) stops anyone from bouncing deliveries they did not receive.
- ``process_bounces()`` reads a mailbox (IMAP, or a Maildir path) and applies the rules:
  one hard bounce marks the subscriber bounced; three soft bounces within 30 days likewise;
  a complaint (an ARF feedback report) unsubscribes. Each is recorded on the delivery.
- Mail to the List-Unsubscribe mailto address unsubscribes its sender.
- django-anymail's tracking webhooks (``anymail.signals.tracking``) go through the same rules.
"""

import contextlib
import datetime
import email
import email.policy
import imaplib
import logging
import mailbox
import re
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from newsletter.addresses import canonical_address
from newsletter.models import Delivery, Subscriber, Subscription, Suppression
from newsletter.tokens import BadToken, read_unsubscribe_token

logger = logging.getLogger("newsletter.bounces")

SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_DAYS = 30


# Addresses ---------------------------------------------------------------------------------


def _sender_domain(newsletter):
    address = newsletter.sender_email or settings.DEFAULT_FROM_EMAIL
    return address.rpartition("@")[2] or "localhost"


def bounce_address(newsletter):
    """The plain bounce mailbox (DELIVERY_BOUNCE_ADDRESS, or bounces@<sender domain>)."""
    return settings.DELIVERY_BOUNCE_ADDRESS or f"bounces@{_sender_domain(newsletter)}"


def unsubscribe_address(newsletter):
    """The List-Unsubscribe mailto address (DELIVERY_UNSUBSCRIBE_ADDRESS, or unsubscribe@<sender domain>)."""
    return settings.DELIVERY_UNSUBSCRIBE_ADDRESS or f"unsubscribe@{_sender_domain(newsletter)}"


def _signature(delivery_id):
    return salted_hmac("newsletter.verp", str(delivery_id)).hexdigest()[:10]


def verp_address(delivery_id, newsletter):
    local, _, domain = bounce_address(newsletter).partition("@")
    return f"{local}+{delivery_id}.{_signature(delivery_id)}@{domain}"


VERP_RE = re.compile(r"\+(\d+)\.([0-9a-f]{10})@", re.IGNORECASE)


def parse_verp(address):
    """The delivery id in a VERP address, or None when it is not one of ours (or the signature is wrong)."""
    match = VERP_RE.search(address or "")
    if not match or not constant_time_compare(match.group(2).lower(), _signature(match.group(1))):
        return None
    return int(match.group(1))


# Rules -------------------------------------------------------------------------------------


def record_bounce(delivery, kind, reason="", now=None):
    """Record a hard/soft bounce or a complaint on the delivery, then apply the subscriber rules.

    Returns what happened to the subscriber: "bounced", "unsubscribed" or "".
    """
    now = now or timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(bounce=kind, bounced_at=now)
        if reason:
            Delivery.objects.filter(pk=delivery.pk, last_error="").update(last_error=reason[:2000])
        subscriber = delivery.subscriber
        if subscriber is None:
            return ""
        if kind == Delivery.Bounce.COMPLAINT:
            _unsubscribe_everywhere(subscriber, Subscription.Status.UNSUBSCRIBED)
            Suppression.add(subscriber.email, Suppression.Reason.COMPLAINED)
            return "unsubscribed"
        if kind == Delivery.Bounce.SOFT:
            recent = Delivery.objects.filter(
                subscriber=subscriber,
                bounce=Delivery.Bounce.SOFT,
                bounced_at__gte=now - datetime.timedelta(days=SOFT_BOUNCE_DAYS),
            ).count()
            if recent < SOFT_BOUNCE_LIMIT:
                return ""
        _unsubscribe_everywhere(subscriber, Subscription.Status.BOUNCED)
        Suppression.add(subscriber.email, Suppression.Reason.BOUNCED)
        return "bounced"


def _unsubscribe_everywhere(subscriber, status):
    Subscription.objects.filter(
        subscriber=subscriber, status__in=[Subscription.Status.ACTIVE, Subscription.Status.PENDING]
    ).update(status=status, unsubscribed_at=timezone.now(), updated_at=timezone.now())


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
    subscriptions = Subscription.objects.filter(subscriber=subscriber, status=Subscription.Status.ACTIVE)
    if newsletter_id:
        subscriptions = subscriptions.filter(newsletter_id=newsletter_id)
    ended = 0
    for subscription in subscriptions:
        subscription.unsubscribe()
        subscription.save(update_fields=["status", "unsubscribed_at", "updated_at"])
        ended += 1
    if ended and not Subscription.objects.filter(subscriber=subscriber, status=Subscription.Status.ACTIVE).exists():
        Suppression.add(subscriber.email, Suppression.Reason.UNSUBSCRIBED)
    return ended


# Reading mail ------------------------------------------------------------------------------


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


def classify_message(message):
    """(kind, delivery id or None, reason) for one incoming message; kind is hard/soft/complaint/unsubscribe/None."""
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type") or "").lower()
    recipients = " ".join(
        addr for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Delivered-To", []))
    )
    recipients += " " + " ".join(message.get_all("X-Original-To", []))
    delivery_id = parse_verp(recipients)
    if content_type == "multipart/report" and report_type == "feedback-report":
        return Delivery.Bounce.COMPLAINT, delivery_id or _delivery_from_original(message), "complaint"
    if content_type == "multipart/report" and report_type == "delivery-status":
        status, action, diagnostic = _dsn_fields(message)
        if action == "delayed" or status.startswith("4"):
            kind = Delivery.Bounce.SOFT
        elif action == "failed" or status.startswith("5"):
            kind = Delivery.Bounce.HARD
        else:
            return None, delivery_id, ""  # delivered/relayed/expanded: nothing to do
        return kind, delivery_id or _delivery_from_original(message), f"{status} {diagnostic}".strip()
    to_addresses = [canonical_address(addr) for _, addr in getaddresses(message.get_all("To", []))]
    if _is_unsubscribe_address(to_addresses):
        return "unsubscribe", None, ""
    if delivery_id:  # a non-standard bounce to a VERP address: treat as hard only when it says so
        body = _text_of(message)[:5000]
        if re.search(r"\b5\.\d{1,3}\.\d{1,3}\b|user unknown|no such user|does not exist", body, re.IGNORECASE):
            return Delivery.Bounce.HARD, delivery_id, "non-standard bounce"
        return Delivery.Bounce.SOFT, delivery_id, "non-standard bounce"
    return None, None, ""


def _is_unsubscribe_address(addresses):
    configured = settings.DELIVERY_UNSUBSCRIBE_ADDRESS
    wanted = {canonical_address(configured)} if configured else set()
    return any(a in wanted or a.startswith("unsubscribe@") for a in addresses)


def _dsn_fields(message):
    status, action, diagnostic = "", "", ""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else [email.message_from_string(str(payload))]
        for block in blocks:
            status = status or (block.get("Status") or "").strip()
            action = action or (block.get("Action") or "").strip().lower()
            diagnostic = diagnostic or " ".join((block.get("Diagnostic-Code") or "").split())
    return status, action, diagnostic


def _delivery_from_original(message):
    """When the report did not come to a VERP address: the Message-ID of the returned original."""
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) else email.message_from_string(str(payload))
            message_id = (original.get("Message-ID") or "").strip()
            if message_id:
                found = Delivery.objects.filter(message_id=message_id).values_list("pk", flat=True).first()
                if found:
                    return found
    return None


def _text_of(message):
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                parts.append(part.get_content())
            except (LookupError, KeyError):
                parts.append(str(part.get_payload()))
    return "\n".join(parts)


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
    """Read every new message in a Maildir, act on it and move it to cur/ (so a second run skips it)."""
    report = report or BounceReport()
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in list(box.iterkeys()):
        msg = box.get_message(key)
        if "S" in msg.get_flags():
            continue
        handle_message(email.message_from_bytes(box.get_bytes(key), policy=email.policy.default), report)
        msg.set_subdir("cur")
        msg.add_flag("S")
        box[key] = msg
    return report


def process_imap(url, report=None):
    """Read unseen messages from imap[s]://user:password@host[:port]/MAILBOX and mark them seen."""
    report = report or BounceReport()
    parts = urlsplit(url)
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143))
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        _, data = client.search(None, "UNSEEN")
        for number in data[0].split():
            _, fetched = client.fetch(number, "(RFC822)")
            handle_message(email.message_from_bytes(fetched[0][1], policy=email.policy.default), report)
            client.store(number, "+FLAGS", "\\Seen")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
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
        return unsubscribe_by_mail(event.recipient)
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
