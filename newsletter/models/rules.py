"""The rules that change an issue's row, one place each (Issue.objects.…):

move(pk, from_statuses, to, **fields) -> bool   the only way a status changes: a compare-and-set
                                                UPDATE that enforces Issue.TRANSITIONS
approve(pk, by) -> bool                         a second editor approves a draft or scheduled issue
content_changed() -> int                        content changed: withdraw the approval

Issue.save() calls content_changed() when the issue's own content fields change, and the model
signals at the end of models/sections.py (sections, links, images) and models/content.py (tags)
call it for the rest, so every door (the admin, contributions, the shell) withdraws an approval.
The same signals record a revision (models/revisions.py: one snapshot per issue per transaction), and
approve() marks the revision it approved.
Issue.save() never writes the fields these own (Issue.WORKFLOW_FIELDS).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.dispatch import Signal
from django.utils import timezone

# Sent after Issue.objects.move() changed an issue's status (sender=Issue, issue_id, status);
# the archive's page cache listens, since an issue is on the web from the moment it sends.
status_moved = Signal()


class IssueQuerySet(models.QuerySet):
    def published(self):
        """Issues readers can see in the archive: sent or imported."""
        return self.filter(status__in=self.model.PUBLISHED_STATUSES)

    def listed(self):
        """The one rule for every list of issues (archive, home, tags, search, feeds, topic pages, calendar, sitemap,
        the API): published and public. Unlisted and subscribers-only issues open by their link, never listed."""
        return self.filter(self.model.listed_q())

    def newest_first(self):
        return self.order_by(models.F("issue_date").desc(nulls_last=True), "-created_at", "-id")

    def move(self, pk, from_statuses, to, **fields):
        """The one way an issue's status changes: UPDATE … SET status=to WHERE pk=… AND status IN from_statuses.

        Every status in `from_statuses` (one, or several) must be allowed to reach `to` by
        Issue.TRANSITIONS; an illegal move (draft → sent, sent → draft, imported → anything)
        raises ValidationError and changes nothing. Returns True when this call moved the issue,
        False when it was no longer in `from_statuses`: of two callers racing, exactly one wins.
        `fields` are written in the same UPDATE (what was mailed, the schedule, who started it).
        """
        from_statuses = (from_statuses,) if isinstance(from_statuses, str) else tuple(from_statuses)
        if "status" in fields:
            raise TypeError("Pass the new status as `to`.")
        labels = dict(self.model.Status.choices)
        for status in from_statuses:
            if to not in self.model.TRANSITIONS.get(status, ()):
                message = f"An issue cannot go from {labels.get(status, status)} to {labels.get(to, to)}."
                raise ValidationError(message, code="illegal_move")
        moved = bool(self.filter(pk=pk, status__in=from_statuses).update(status=to, **fields))
        if moved:
            status_moved.send(sender=self.model, issue_id=pk, status=to)
        return moved

    def approve(self, pk, by):
        """Approve a draft or scheduled issue as it is now (one UPDATE; its revision marked); False if neither."""
        from newsletter.models import revisions

        approved = bool(
            self.filter(pk=pk, status__in=self.model.APPROVABLE_STATUSES).update(
                approved_by=by, approved_at=timezone.now(), approval_withdrawn_at=None
            )
        )
        if approved:
            revisions.mark_approved(pk, by)
        return approved

    def content_changed(self):
        """The content of these issues changed: withdraw the approval of those not yet sending (one UPDATE).

        Returns how many lost an approval. Sent, sending and imported issues keep theirs: it
        records who approved what was mailed. `approval_withdrawn_at` tells the review page
        the issue changed since it was approved.
        """
        return self.filter(status__in=self.model.APPROVABLE_STATUSES, approved_at__isnull=False).update(
            approved_by=None, approved_at=None, approval_withdrawn_at=timezone.now()
        )
