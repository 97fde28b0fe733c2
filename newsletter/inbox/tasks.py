"""Beat tasks filling the inbox: thin, with stable names."""

from celery import shared_task
from django.conf import settings

from newsletter.inbox import feeds, mailin


@shared_task(name="newsletter.feeds.fetch_due")
def fetch_due_feeds():
    """Every FEEDS_SWEEP_SECONDS: fetch the feed sources whose interval has passed. Returns how many items arrived."""
    return sum(result.new for result in feeds.fetch_due())


@shared_task(name="newsletter.contributions.read_mailbox")
def read_contribution_mailbox():
    """Every CONTRIBUTIONS_MAIL_SECONDS: read CONTRIBUTIONS_IMAP_URL into the inbox (nothing when unset)."""
    if not settings.CONTRIBUTIONS_IMAP_URL:
        return 0
    report = mailin.process_contributions()
    return report.new + report.held
