"""Revisions: what an issue said at each save, so editors see what changed, undo a mistake and approve a version.

changed(issue_id)        content of the issue changed: take one snapshot when the transaction commits
record(issue_id, …)      take it now (approving, sending and restoring do); folds or skips as below
snapshot(issue) -> dict  subject, preheader, intro, sign-off, tags and the sections in reading order
editing_as(user)         who is editing (newsletter.editor.history.EditorMiddleware sets it per request)

Every door passes through the same places as the approval rule (models/rules.py): Issue.save() and the
section, link, image, topic and tag signals call changed(). It queues one callback per issue per
transaction (transaction.on_commit), so saving an issue with 100 sections takes one snapshot, of the state
committed. A snapshot equal to the latest revision adds nothing; one by the same editor within
REVISION_FOLD_SECONDS of the latest folds into it, unless that one was approved, sent or a restore.
Approving marks the revision approved; starting a send (status_moved → sending) marks the revision sent.
Revision.objects.prune() deletes unsent, unapproved revisions older than REVISION_RETENTION_DAYS, never the
latest of an issue.
"""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from newsletter.models.content import Issue
from newsletter.models.rules import status_moved

_editor = contextvars.ContextVar("newsletter_revision_editor", default=None)

ISSUE_FIELDS = ("title", "subject", "preheader", "intro", "sign_off")
SECTION_FIELDS = ("heading", "kind", "body_markdown", "source", "venue", "fee", "booking")
# A bilingual issue's second language (newsletter.models.languages): in a snapshot only when written, so the
# snapshot of an issue in one language is what it was before there were two (an approval stays current).
SECOND_ISSUE_FIELDS = tuple(f"second_{name}" for name in ISSUE_FIELDS)
SECOND_SECTION_FIELDS = tuple(f"second_{name}" for name in SECTION_FIELDS if name != "kind")


@contextlib.contextmanager
def editing_as(user):
    """Revisions taken inside are by `user` (None: the shell, the importer, a task)."""
    token = _editor.set(user)  # kept lazy (request.user): public pages never load a session for this
    try:
        yield
    finally:
        _editor.reset(token)


def current_editor():
    return _editor.get()


class RevisionQuerySet(models.QuerySet):
    def prunable(self, now=None, days=None):
        """Revisions older than `days` that were never approved or sent and are not an issue's latest."""
        days = settings.REVISION_RETENTION_DAYS if days is None else days
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        latest = Revision.objects.values("issue_id").annotate(last=Max("id")).values("last")
        return self.filter(updated_at__lt=cutoff, approved_at__isnull=True, sent_at__isnull=True).exclude(id__in=latest)

    def prune(self, now=None, days=None):
        """Delete what prunable() finds (one DELETE); returns how many went."""
        return Revision.objects.filter(id__in=list(self.prunable(now, days).values_list("id", flat=True))).delete()[0]


class Revision(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="revisions")
    data = models.JSONField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, help_text="The last save folded into this revision.")
    saves = models.PositiveIntegerField(default=1, help_text="How many saves folded into this revision.")
    note = models.CharField(max_length=200, blank=True)
    restored_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The revision mailed; kept forever.")

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["issue", "-id"], name="revision_issue_idx")]

    def __str__(self):
        return f"Revision {self.pk} of issue {self.issue_id}"

    @property
    def is_kept(self):
        return self.approved_at is not None or self.sent_at is not None


def snapshot(issue):
    """The issue's content as plain JSON: its fields, tags, and sections in reading order (items after their group)."""
    from newsletter.models.sections import Section

    sections = list(
        Section.objects.filter(issue_id=issue.pk)
        .order_by("position", "id")
        .prefetch_related("links", "images", "topics")
    )
    items = {}
    for section in sections:
        if section.parent_id:
            items.setdefault(section.parent_id, []).append(section)
    ordered = []
    for section in sections:
        if not section.parent_id:
            ordered += [section, *items.pop(section.pk, [])]
    for orphans in items.values():
        ordered += orphans
    return {
        **{name: getattr(issue, name) for name in ISSUE_FIELDS},
        **{name: getattr(issue, name) for name in SECOND_ISSUE_FIELDS if getattr(issue, name)},
        "tags": sorted(issue.tags.values_list("name", flat=True)),
        "sections": [_section(section) for section in ordered],
    }


def _section(section):
    data = {"id": section.pk, "parent": section.parent_id}
    data.update({name: getattr(section, name) for name in SECTION_FIELDS})
    data.update({name: getattr(section, name) for name in SECOND_SECTION_FIELDS if getattr(section, name)})
    data["event_date"] = section.event_date.isoformat() if section.event_date else None
    data["event_time"] = section.event_time.isoformat() if section.event_time else None
    data["topics"] = sorted(topic.name for topic in section.topics.all())
    data["links"] = [{"url": link.url, "title": link.title, "source": link.source} for link in section.links.all()]
    data["images"] = [image.alt_text for image in section.images.all()]
    return data


def changed(issue_id):
    """The issue's content changed: take a snapshot once, when the outermost transaction commits."""
    if issue_id is None:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, _Pending) and func.issue_id == issue_id and not func.done:
                return
    transaction.on_commit(_Pending(issue_id, _editor.get()))


class _Pending:
    """The snapshot queued for one issue in one transaction (changed() looks for it before queueing another)."""

    def __init__(self, issue_id, user):
        self.issue_id, self.user, self.done = issue_id, user, False

    def __call__(self):
        self.done = True
        record(self.issue_id, user=self.user)


def record(issue_id, user=None, fold=True, **fields):
    """A revision equal to the issue now: the latest when nothing changed, the latest folded, or a new one.

    `fields` (note, restored_from) go on a new revision; passing any never folds.
    """
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None:
        return None
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    data = snapshot(issue)
    now = timezone.now()
    latest = Revision.objects.filter(issue_id=issue_id).order_by("-id").first()
    if latest is not None and latest.data == data and not fields:
        return latest
    window = datetime.timedelta(seconds=settings.REVISION_FOLD_SECONDS)
    if (
        fold
        and not fields
        and latest is not None
        and not latest.is_kept
        and latest.restored_from_id is None
        and latest.user_id == user_id
        and now - latest.updated_at <= window
    ):
        Revision.objects.filter(pk=latest.pk).update(data=data, updated_at=now, saves=models.F("saves") + 1)
        latest.refresh_from_db()
        return latest
    return Revision.objects.create(issue=issue, data=data, user_id=user_id, created_at=now, updated_at=now, **fields)


def mark_approved(issue_id, by):
    """Approving records the revision approved (the content as it is now)."""
    revision = record(issue_id, user=by, fold=False)
    if revision is not None:
        Revision.objects.filter(pk=revision.pk).update(approved_at=timezone.now(), approved_by=by)
    return revision


def approved_revision(issue):
    """The revision last approved (a withdrawn approval included), or None."""
    return issue.revisions.filter(approved_at__isnull=False).order_by("-approved_at", "-id").first()


def approval_is_current(issue):
    """False when an approval was recorded for a revision and the content differs from it now."""
    approved = approved_revision(issue)
    return approved is None or approved.data == snapshot(issue)


def _mark_sent(sender, issue_id, status, **kwargs):
    if status != Issue.Status.SENDING:
        return
    revision = record(issue_id, fold=False)
    if revision is not None and revision.sent_at is None:
        Revision.objects.filter(pk=revision.pk).update(sent_at=timezone.now())


def _tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    for issue_id in (pk_set or ()) if reverse else [instance.pk]:
        changed(issue_id)


def _topics_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from newsletter.models.sections import Section

    if not reverse:
        changed(instance.issue_id)
    elif pk_set:
        for issue_id in set(Section.objects.filter(pk__in=pk_set).values_list("issue_id", flat=True)):
            changed(issue_id)


def _part_changed(sender, instance, update_fields=None, **kwargs):
    from newsletter.models.sections import LINK_CHECK_FIELDS, Section

    if update_fields is not None and set(update_fields) <= LINK_CHECK_FIELDS:
        return
    section = sender.section.field.get_cached_value(instance, default=None)
    if section is None:
        section = Section.objects.filter(pk=instance.section_id).only("issue_id").first()
    if section is not None:
        changed(section.issue_id)


def _issue_saved(sender, instance, created=False, update_fields=None, **kwargs):
    if created or update_fields is None or set(update_fields) & set(Issue.CONTENT_FIELDS):
        changed(instance.pk)


def _section_changed(sender, instance, **kwargs):
    changed(instance.issue_id)


def connect():
    """Called once by models/__init__.py, after every model is defined."""
    from newsletter.models.sections import Link, Section, SectionImage

    post_save.connect(_issue_saved, sender=Issue, dispatch_uid="issue-revision-save")
    m2m_changed.connect(_tags_changed, sender=Issue.tags.through, dispatch_uid="issue-revision-tags")
    m2m_changed.connect(_topics_changed, sender=Section.topics.through, dispatch_uid="issue-revision-topics")
    post_save.connect(_section_changed, sender=Section, dispatch_uid="issue-revision-section-save")
    post_delete.connect(_section_changed, sender=Section, dispatch_uid="issue-revision-section-delete")
    for model in (Link, SectionImage):
        post_save.connect(_part_changed, sender=model, dispatch_uid=f"issue-revision-{model.__name__}-save")
        post_delete.connect(_part_changed, sender=model, dispatch_uid=f"issue-revision-{model.__name__}-delete")
    status_moved.connect(_mark_sent, sender=Issue, dispatch_uid="issue-revision-sent")
