"""An issue's history: its revisions (newsletter/models/revisions.py), any two compared, and Restore.

/admin/editor/issue/<id>/history/             the revisions, newest first; ?a=<id>&b=<id> compares two
/admin/editor/issue/<id>/history/<rev>/restore/  POST: the issue's content becomes that revision's again,
                                              recorded as a new revision (history is never rewritten)

compare(old, new) (newsletter/models/revisiondiff.py, shared with the archive's "what changed" page) is a readable
diff per section, matched by section id: added, removed, moved (not in the longest common order of the sections
both have) and changed, with changed words marked (<del>/<ins>, difflib).
EditorMiddleware tells the revisions who is saving (request.user, left lazy).
"""

from django.contrib import messages
from django.contrib.admin import site as admin_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from newsletter.models import Issue, Link, Revision, Section, Tag, revisions
from newsletter.models.revisiondiff import compare, word_diff  # noqa: F401 - word_diff: imported from here too

# Once an issue is mailed these stay as mailed (the admin locks them too); a restore changes the web page only.
LOCKED_WHEN_SENT = ("title", "subject", "preheader")


class EditorMiddleware:
    """Revisions taken while a request runs are by its user (evaluated only when a revision is taken)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with revisions.editing_as(getattr(request, "user", None)):
            return self.get_response(request)


# The diff (newsletter/models/revisiondiff.py) --------------------------------------------


def approval_diff(issue):
    """The diff from the revision last approved to the issue now, when they differ; else None."""
    approved = revisions.approved_revision(issue)
    if approved is None:
        return None
    diff = compare(approved.data, revisions.snapshot(issue))
    return {"revision": approved, **diff} if diff["changed"] else None


# Restore -----------------------------------------------------------------------------------


@transaction.atomic
def restore(revision, user=None):
    """Make the issue's content what `revision` recorded, and record that as a new revision.

    Sections still there are updated in place, sections deleted since are made again (without their
    images: a snapshot keeps only the alt text), sections added since are deleted. Links are replaced.
    A sent issue keeps its title, subject and preheader (what was mailed); a sending one cannot change.
    """
    issue = Issue.objects.select_for_update().get(pk=revision.issue_id)
    if issue.sections_locked:
        raise ValidationError("It is being sent; nothing can change until the send ends.")
    data = revision.data
    for name in revisions.ISSUE_FIELDS:
        if not (issue.is_locked and name in LOCKED_WHEN_SENT):
            setattr(issue, name, data[name])
    for name in revisions.SECOND_ISSUE_FIELDS:  # the second language's, when it was written then
        if not (issue.is_locked and name.removeprefix("second_") in LOCKED_WHEN_SENT):
            setattr(issue, name, data.get(name, ""))
    issue.save()
    issue.tags.set(Tag.for_names(data.get("tags", [])))
    topics = {topic.name: topic for topic in issue.newsletter.topics.all()}
    existing = {section.pk: section for section in issue.sections.all()}
    made = {}
    for position, saved in enumerate(data["sections"]):
        section = existing.get(saved["id"]) or Section(issue=issue)
        section.parent = made.get(saved["parent"]) or existing.get(saved["parent"])
        section.position = position
        for name in revisions.SECTION_FIELDS:
            setattr(section, name, saved[name])
        for name in revisions.SECOND_SECTION_FIELDS:
            setattr(section, name, saved.get(name, ""))
        section.event_date, section.event_time = saved["event_date"], saved["event_time"]
        section.save()
        made[saved["id"]] = section
        section.links.all().delete()
        for place, link in enumerate(saved["links"]):
            Link.objects.create(section=section, position=place, **link)
        section.topics.set([topics[name] for name in saved["topics"] if name in topics])
    kept = [section.pk for section in made.values()]
    issue.sections.exclude(pk__in=kept).filter(parent__isnull=False).delete()
    issue.sections.exclude(pk__in=kept).delete()
    return revisions.record(issue.pk, user=user, note=f"Restored revision {revision.pk}", restored_from=revision)


# Views -------------------------------------------------------------------------------------


def _issue(pk):
    return get_object_or_404(Issue.objects.select_related("newsletter"), pk=pk)


@never_cache
def history(request, pk):
    issue = _issue(pk)
    listed = list(issue.revisions.select_related("user", "approved_by").order_by("-id"))
    by_id = {revision.pk: revision for revision in listed}
    diff = older = newer = None
    if "a" in request.GET or "b" in request.GET:
        try:
            older, newer = by_id[int(request.GET.get("a", ""))], by_id[int(request.GET.get("b", ""))]
        except (KeyError, ValueError) as exc:
            raise Http404("No such revision of this issue.") from exc
    elif len(listed) >= 2:
        older, newer = listed[1], listed[0]
    if older is not None:
        diff = compare(older.data, newer.data)
    context = {
        **admin_site.each_context(request),
        "title": f"History: {issue.title}",
        "issue": issue,
        "opts": Issue._meta,
        "revisions": listed,
        "older": older,
        "newer": newer,
        "diff": diff,
        "can_restore": request.user.has_perm("newsletter.change_issue") and not issue.sections_locked,
    }
    return render(request, "admin/newsletter/issue/revisions.html", context)


@require_POST
def restore_view(request, pk, revision_id):
    if not request.user.has_perm("newsletter.change_issue"):
        raise PermissionDenied("Only editors who can change issues may restore a revision.")
    revision = get_object_or_404(Revision, pk=revision_id, issue_id=pk)
    try:
        restored = restore(revision, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("history:history", args=[pk]))
    messages.success(request, f"Restored revision {revision.pk} as revision {restored.pk}.")
    url = reverse("history:history", args=[pk])
    return redirect(f"{url}?a={revision.pk}&b={restored.pk}")
