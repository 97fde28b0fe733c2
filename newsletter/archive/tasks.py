"""Tasks for the public site."""

from celery import shared_task

from newsletter.models import reach


@shared_task(name="newsletter.reach.flush")
def flush_reach_counts():
    """Every minute (beat): move the short links' click counters from the cache (Redis) into the database."""
    return reach.flush()
