"""newsletter.events → one queued delivery per endpoint that wants the event, after the commit."""

import functools
import logging

from django.db import transaction
from django.utils import timezone

from newsletter import events
from newsletter.models import Issue, WebhookEndpoint
from newsletter.webhooks import delivery, payloads
from newsletter.webhooks.tasks import deliver

logger = logging.getLogger(__name__)


def emit(event, newsletter_id, data_for):
    """Queue the event for each active endpoint of the newsletter that wants it; data_for(endpoint) → dict."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(newsletter_id=newsletter_id, active=True) if e.wants(event)]
    if not endpoints:
        return
    first_at = timezone.now().isoformat()
    for endpoint in endpoints:
        body = delivery.envelope(event, data_for(endpoint))
        transaction.on_commit(lambda pk=endpoint.pk, body=body: deliver.delay(pk, event, body, first_at))


def _confirmed(sender, subscriptions, **kwargs):
    for s in subscriptions:
        emit(
            "subscription.confirmed",
            s.newsletter_id,
            lambda e, s=s: payloads.subscription(s.pk, s.newsletter_id, s.subscriber.email, e),
        )


def _ended(sender, subscriber, subscriptions, reason, status, **kwargs):
    for pk, newsletter_id in subscriptions:
        emit(
            "subscription.ended",
            newsletter_id,
            lambda e, pk=pk, n=newsletter_id: payloads.subscription(
                pk, n, subscriber.email, e, reason=str(reason), status=status
            ),
        )


def _sent(sender, issue_id, **kwargs):
    issue = Issue.objects.get(pk=issue_id)
    emit("issue.sent", issue.newsletter_id, lambda e: payloads.issue_sent(issue))


def _bounced(sender, delivery, kind, **kwargs):
    newsletter_id = Issue.objects.filter(pk=delivery.issue_id).values_list("newsletter_id", flat=True).first()
    emit("delivery.bounced", newsletter_id, lambda e: payloads.delivery_bounced(delivery, kind))


def _contribution(sender, contribution, **kwargs):
    emit("contribution.received", contribution.newsletter_id, lambda e: payloads.contribution(contribution))


def _safe(receiver):
    """A webhook's trouble never fails what the site was doing (an unsubscribe, a send): it is logged."""

    @functools.wraps(receiver)
    def wrapped(*args, **kwargs):
        try:
            with transaction.atomic():  # a savepoint: a failed query here leaves the sender's transaction usable
                receiver(*args, **kwargs)
        except Exception:
            logger.exception("webhook event not queued")

    return wrapped


def connect():
    events.subscription_confirmed.connect(_safe(_confirmed), dispatch_uid="webhooks.confirmed", weak=False)
    events.subscription_ended.connect(_safe(_ended), dispatch_uid="webhooks.ended", weak=False)
    events.issue_sent.connect(_safe(_sent), dispatch_uid="webhooks.sent", weak=False)
    events.delivery_bounced.connect(_safe(_bounced), dispatch_uid="webhooks.bounced", weak=False)
    events.contribution_received.connect(_safe(_contribution), dispatch_uid="webhooks.contribution", weak=False)
