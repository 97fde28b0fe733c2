"""Celery tasks: thin wrappers that call plain functions elsewhere."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "worker-heartbeat"


@shared_task(name="newsletter.tasks.record_heartbeat")  # a stable name: queued messages outlive refactors
def record_heartbeat():
    """Beat runs this every minute, so the site can tell whether a worker is alive."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
