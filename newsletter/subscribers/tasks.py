"""Celery tasks for subscriptions: thin wrappers around newsletter.mail.transactional.

Names are explicit and stable: queued messages outlive refactors. Network errors
retry with backoff; the work is idempotent enough that a retry after a partly
sent message means at worst a second copy of a confirmation, never a wrong state.
"""

import smtplib

from celery import shared_task

from newsletter.mail import transactional
from newsletter.subscribers import confirmations

RETRY = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="newsletter.tasks.send_confirmation", bind=True, **RETRY)
def send_confirmation(self, subscriber_id, name="", planned_for=None, language=""):
    """Mail a confirmation covering every pending subscription of the subscriber, in `language` (else theirs).

    planned_for (ISO time) marks a throttled mail queued for when the interval ends: it goes out only
    if its slot is still there to claim (confirmations.claim_planned); its own retries keep the claim.
    """
    if planned_for and not self.request.retries and not confirmations.claim_planned(subscriber_id, planned_for):
        return False
    return transactional.send_confirmation(subscriber_id, name, language=language)


@shared_task(name="newsletter.tasks.send_welcome", **RETRY)
def send_welcome(subscription_id):
    return transactional.send_welcome(subscription_id)
