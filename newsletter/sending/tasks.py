"""Sending's Celery tasks: thin wrappers with explicit, stable names (queued messages outlive refactors).

Each takes an issue id and loads what it needs. Workers ack late with a prefetch of one and
reject on a lost worker (settings), so a task whose worker dies is delivered again; every task
here is safe to run twice (see newsletter/sending/lease.py).
"""

from celery import shared_task

from newsletter.sending import housekeeping, sweep, worker


@shared_task(name="newsletter.delivery.send_issue")
def send_issue_task(issue_id):
    """Freeze the audience into deliveries (once) and queue the batch chains."""
    return worker.send_issue(issue_id)


@shared_task(name="newsletter.delivery.send_batch")
def send_batch_task(issue_id):
    """Send one batch of the issue's due deliveries over one SMTP connection."""
    result = worker.send_batch(issue_id)
    return {"claimed": result.claimed, "sent": result.sent, "failed": result.failed}


@shared_task(name="newsletter.delivery.sweep")
def sweep_task():
    """Beat: start due scheduled issues, restore stalled sends, finish completed ones."""
    return sweep.sweep()


@shared_task(name="newsletter.sending.housekeeping.prune_deliveries")
def prune_deliveries_task():
    """Beat, daily: summarise and delete the Delivery rows of issues sent more than DELIVERY_RETENTION_DAYS ago."""
    report = housekeeping.prune_deliveries()
    return {"issues": report.issues, "summarised": report.summarised, "deleted": report.deleted}
