"""Housekeeping tasks: thin wrappers around newsletter.housekeeping, with stable names."""

from celery import shared_task

from newsletter import housekeeping


@shared_task(name="newsletter.housekeeping.prune_deliveries")
def prune_deliveries_task():
    """Beat, daily: summarise and delete the Delivery rows of issues sent more than DELIVERY_RETENTION_DAYS ago."""
    report = housekeeping.prune_deliveries()
    return {"issues": report.issues, "summarised": report.summarised, "deleted": report.deleted}
