"""Tasks for the editor's workflow."""

from celery import shared_task

from newsletter.editor import linkcheck
from newsletter.models import Issue, Revision


@shared_task(name="newsletter.tasks.check_issue_links")
def check_issue_links(issue_id):
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None:
        return 0
    results = linkcheck.check_issue_links(issue)
    return sum(result.broken for result in results.values())


@shared_task(name="newsletter.revisions.prune")
def prune_revisions():
    """Daily (beat): delete revisions older than REVISION_RETENTION_DAYS, never the approved, sent or latest ones."""
    return Revision.objects.prune()
