"""Tasks for the editor's workflow."""

from celery import shared_task

from newsletter.editor import linkcheck
from newsletter.models import Issue


@shared_task(name="newsletter.tasks.check_issue_links")
def check_issue_links(issue_id):
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None:
        return 0
    results = linkcheck.check_issue_links(issue)
    return sum(result.broken for result in results.values())
