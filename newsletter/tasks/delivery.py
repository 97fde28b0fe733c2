"""Delivery tasks: thin wrappers around newsletter.delivery. Names are explicit and stable (queued
messages outlive refactors); each task takes an issue id and loads what it needs.

Workers ack late with a prefetch of one (settings), so a task whose worker dies is delivered
again; every task here is safe to run twice (see newsletter/delivery.py).
"""

from celery import shared_task

from newsletter import delivery


@shared_task(name="newsletter.delivery.send_issue")
def send_issue_task(issue_id):
    """Freeze the audience into deliveries (once) and queue the batch chains."""
    return delivery.send_issue(issue_id)


@shared_task(name="newsletter.delivery.send_batch")
def send_batch_task(issue_id):
    """Send one batch of the issue's due deliveries over one SMTP connection."""
    result = delivery.send_batch(issue_id)
    return {"claimed": result.claimed, "sent": result.sent, "failed": result.failed}


@shared_task(name="newsletter.delivery.sweep")
def sweep_task():
    """Beat: start due scheduled issues, re-queue stalled sends, finish completed ones."""
    return delivery.sweep()
