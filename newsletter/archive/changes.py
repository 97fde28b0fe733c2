"""/<newsletter>/<issue>/changes/: what changed on an issue's web page since it was mailed, for readers.

The mailed version is the revision marked sent (newsletter/models/revisions.py); the page compares it with the
issue as it is now (newsletter/models/revisiondiff.py), showing only what readers see: headings, text, event
facts, links, sources and images' alt text (never topics, tags or the section kinds). The issue page links here
beside "Updated"."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from newsletter.archive import access
from newsletter.models import Issue, Revision, revisions
from newsletter.models.revisiondiff import ISSUE_LABELS, SECTION_LABELS, compare

READER_ISSUE = {k: v for k, v in ISSUE_LABELS.items() if k in ("intro", "sign_off")}
READER_SECTION = {k: v for k, v in SECTION_LABELS.items() if k not in ("kind", "topics")}


def issue_changes(request, newsletter_slug, slug):
    issue = get_object_or_404(
        Issue.objects.published().select_related("newsletter"), newsletter__slug=newsletter_slug, slug=slug
    )
    refused = access.refuse(request, issue)
    if refused:
        return refused
    if issue.sent_at is None:
        raise Http404("This issue was not mailed.")
    mailed = Revision.objects.filter(issue=issue, sent_at__isnull=False).order_by("sent_at", "pk").first()
    diff = compare(mailed.data, revisions.snapshot(issue), READER_ISSUE, READER_SECTION) if mailed else None
    context = {"issue": issue, "newsletter": issue.newsletter, "mailed": mailed, "diff": diff}
    context["token_query"] = access.token_query(request)
    return access.mark(request, issue, render(request, "archive/changes.html", context))
