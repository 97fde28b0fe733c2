"""Newsletters, their issues and tags.

The issue's rules that change its row (status moves, approval) are in models/rules.py;
`Issue.save()` never writes the fields those own, and withdraws an approval when content changed.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.text import slugify

from newsletter.markup import markdown_to_html
from newsletter.models.languages import IssueSecondLanguage, NewsletterLanguages
from newsletter.models.rules import IssueQuerySet
from newsletter.models.slugs import (  # noqa: F401 (migrations and forms name them here)
    RESERVED_ISSUE_SLUGS,
    RESERVED_NEWSLETTER_SLUGS,
    validate_issue_slug,
    validate_newsletter_slug,
)

SEARCH_TEXT_LIMIT = 400_000


class Visibility(models.TextChoices):
    """Who may read an issue on the web (docs/editor.md, "Who can read an issue").

    public       listed everywhere: archive, search, feeds, topic pages, calendar, sitemap, the API
    unlisted     opens for anyone with its link (and the subscriber's "view in browser"), listed nowhere, noindex
    subscribers  opens only for the signed link in a subscriber's own email; anyone else sees an invitation
    """

    PUBLIC = "public", "Public"
    UNLISTED = "unlisted", "Unlisted"
    SUBSCRIBERS = "subscribers", "Subscribers only"


class Newsletter(NewsletterLanguages, models.Model):
    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Fortnightly"
        MONTHLY = "monthly", "Monthly"
        IRREGULAR = "irregular", "Irregular"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_newsletter_slug])
    description = models.TextField(blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    sender_email = models.EmailField(blank=True)
    reply_to = models.EmailField(blank=True)
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.WEEKLY)
    postal_address = models.TextField(blank=True, help_text="Shown in every email's footer.")
    welcome_message = models.TextField(
        blank=True, help_text="Markdown, sent when someone confirms; a link to the latest issue follows it."
    )
    requires_approval = models.BooleanField(
        default=False, help_text="A second editor must approve an issue before it can be sent."
    )
    count_clicks = models.BooleanField(
        "Count clicks on links",
        default=False,
        help_text="Count clicks on each link of a sent issue, not who clicked: links go through a short link on this "
        "site, with no subscriber in it. The email footer and the preferences page say so.",
    )
    default_visibility = models.CharField(
        "visibility of new issues",
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text="Every new issue starts with this, imported ones too; each issue can then be changed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:newsletter", args=[self.slug])


class Tag(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:tag", args=[self.slug])

    @classmethod
    def for_names(cls, names):
        tags = []
        for name in names:
            slug = slugify(name.replace("’", "").replace("'", "")) or "tag"
            tag, _ = cls.objects.get_or_create(slug=slug, defaults={"name": name})
            tags.append(tag)
        return tags


class Issue(IssueSecondLanguage, models.Model):
    Visibility = Visibility

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        IMPORTED = "imported", "Imported"

    class DatePrecision(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"

    # Readers see an issue on the web from the moment its sending starts ("view in browser").
    PUBLISHED_STATUSES = (Status.SENDING, Status.PAUSED, Status.SENT, Status.IMPORTED)
    # Allowed status changes; Issue.objects.move() refuses anything else. SCHEDULED → SCHEDULED is a new time.
    TRANSITIONS = {
        Status.DRAFT: {Status.SCHEDULED, Status.SENDING},
        Status.SCHEDULED: {Status.DRAFT, Status.SCHEDULED, Status.SENDING},
        Status.SENDING: {Status.PAUSED, Status.SENT},
        Status.PAUSED: {Status.SENDING},
        Status.SENT: set(),
        Status.IMPORTED: set(),
    }
    # Issues that can still be sent: only they are approved, and an edit withdraws the approval.
    APPROVABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED)
    # What an editor writes on the issue itself (sections, links, images and tags are content too).
    CONTENT_FIELDS = (
        "newsletter",
        "title",
        "slug",
        "subject",
        "preheader",
        "issue_date",
        "date_precision",
        "intro",
        "sign_off",
        "category",
        *("second_title", "second_subject", "second_preheader", "second_intro", "second_sign_off"),
    )
    # Written only by Issue.objects.move(), approve() and content_changed(); save() leaves them alone.
    WORKFLOW_FIELDS = (
        "status",
        "scheduled_for",
        "send_started_at",
        "send_started_by",
        "sent_at",
        "sent_subject",
        "sent_html",
        "sent_text",
        "approved_by",
        "approved_at",
        "approval_withdrawn_at",
        "send_plan",
    )
    SEND_PERMISSION = "newsletter.send_issue"  # “Can send and schedule issues”: send, schedule, pause, approve

    newsletter = models.ForeignKey(Newsletter, on_delete=models.PROTECT, related_name="issues")
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, validators=[validate_issue_slug])
    subject = models.CharField("subject line", max_length=200, blank=True)
    preheader = models.CharField(max_length=200, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    date_precision = models.CharField(max_length=5, choices=DatePrecision.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    intro = models.TextField(blank=True, help_text="Markdown.")
    sign_off = models.TextField(blank=True, help_text="Markdown; only a trailing P.S.")
    category = models.CharField(max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="issues")
    visibility = models.CharField(
        max_length=12,
        choices=Visibility.choices,
        blank=True,  # blank: the newsletter's default, filled in by save()
        default="",
        help_text="Public: listed in the archive, search, feeds and the sitemap. Unlisted: only people with the link "
        "(and subscribers) can open it; listed nowhere. Subscribers only: only the link in a subscriber's own email "
        "opens it; others are invited to subscribe. Blank: the newsletter's default.",
    )
    source_file = models.CharField(max_length=255, blank=True)
    source_ordinal = models.PositiveIntegerField(null=True, blank=True)
    source_hash = models.CharField(max_length=64, blank=True)
    edited_in_admin = models.BooleanField(
        default=False, help_text="Set when an editor saves the issue; the importer then leaves it alone."
    )
    search_text = models.TextField(blank=True, editable=False)
    # Sending. What was mailed is frozen here; later edits change only the web page.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    send_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_subject = models.CharField(max_length=200, blank=True, editable=False)
    sent_html = models.TextField(blank=True, editable=False)
    sent_text = models.TextField(blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_withdrawn_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When an edit withdrew the last approval."
    )
    # How it is sent, frozen when it is scheduled or sent (newsletter.sending.editions): the mode, the selected
    # topics and each section's topics then, so a topic deleted meanwhile changes nothing about the send.
    send_plan = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["newsletter", "slug"], name="issue_slug_unique_per_newsletter"),
            models.UniqueConstraint(
                fields=["source_file", "source_ordinal"],
                condition=Q(source_ordinal__isnull=False),
                name="issue_source_unique",
            ),
            models.CheckConstraint(
                condition=Q(issue_date__isnull=True, date_precision="")
                | Q(issue_date__isnull=False, date_precision__in=["day", "month"]),
                name="issue_date_precision_matches_date",
            ),
        ]
        indexes = [
            models.Index(fields=["newsletter", "status", "issue_date"], name="issue_archive_idx"),
            models.Index(fields=["status", "scheduled_for"], name="issue_schedule_idx"),
        ]
        permissions = [("send_issue", "Can send and schedule issues")]

    def __str__(self):
        return self.title

    # Saving: a change to the content withdraws an approval; the workflow's fields are never written here.
    def save(self, *args, **kwargs):
        if not self.visibility and self.newsletter_id:  # a new issue (any door) starts with the newsletter's default
            self.visibility = (
                Newsletter.objects.filter(pk=self.newsletter_id).values_list("default_visibility", flat=True).first()
                or Visibility.PUBLIC
            )
        if self._state.adding:
            super().save(*args, **kwargs)
            self._remember_saved()
            return
        if moved := self._edited(self.WORKFLOW_FIELDS):
            raise ValidationError(
                f"{', '.join(moved)} change only through Issue.objects.move() and approve(), never by save().",
                code="workflow_field",
            )
        asked = kwargs.get("update_fields")
        names = asked
        if names is None:
            deferred = self.get_deferred_fields()
            names = [f.name for f in self._meta.concrete_fields if not f.primary_key and f.attname not in deferred]
        names = [self._meta.get_field(name).name for name in names]
        names = kwargs["update_fields"] = [name for name in names if name not in self.WORKFLOW_FIELDS]
        edited = self._edited([name for name in self.CONTENT_FIELDS if name in names])
        super().save(*args, **kwargs)
        self._remember_saved(None if asked is None else names)
        if edited and self.status in self.APPROVABLE_STATUSES and Issue.objects.filter(pk=self.pk).content_changed():
            self.refresh_from_db(fields=["approved_by", "approved_at", "approval_withdrawn_at"])

    def get_absolute_url(self):
        return reverse("archive:issue", args=[self.newsletter.slug, self.slug])

    @property
    def is_published(self):
        return self.status in self.PUBLISHED_STATUSES

    # Who may read it (the one rule for lists is IssueQuerySet.listed(); the issue page asks these).

    @classmethod
    def listed_q(cls, prefix=""):
        """Published and public: the condition every listing applies, as a Q for queries through a relation
        (`Issue.listed_q("issue__")` on sections). Anything but "public" is left out: an unknown value fails closed."""
        return Q(**{f"{prefix}status__in": cls.PUBLISHED_STATUSES, f"{prefix}visibility": Visibility.PUBLIC})

    @property
    def is_listed(self):
        return self.is_published and self.visibility == Visibility.PUBLIC

    @property
    def opens_by_link(self):
        """Its web page opens for anyone with its address (public or unlisted); else only with a reader token."""
        return self.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)

    @property
    def is_locked(self):
        """Once sending starts, what subscribers get can no longer change (what was mailed is in sent_html)."""
        return self.status in (self.Status.SENDING, self.Status.PAUSED, self.Status.SENT)

    @property
    def sections_locked(self):
        """While it sends, nothing changes; once sent, sections may be corrected for the web page only."""
        return self.status in (self.Status.SENDING, self.Status.PAUSED)

    @property
    def web_updated_at(self):
        """When the web page was corrected after the issue was mailed, else None."""
        if self.sent_at and self.updated_at and self.updated_at - self.sent_at > datetime.timedelta(minutes=1):
            return self.updated_at
        return None

    @property
    def display_date(self):
        if not self.issue_date:
            return ""
        # In the active language: "24 May 2011", "24 Mai 2011".
        if self.date_precision == self.DatePrecision.MONTH:
            return date_format(self.issue_date, "F Y")
        return date_format(self.issue_date, "j F Y")

    @property
    def intro_html(self):
        return markdown_to_html(self.intro)

    @property
    def sign_off_html(self):
        return markdown_to_html(self.sign_off)

    def can_transition_to(self, status):
        return status in self.TRANSITIONS[self.status]

    # What save() compares with.

    @classmethod
    def from_db(cls, db, field_names, values):
        issue = super().from_db(db, field_names, values)
        issue._remember_saved()
        return issue

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._remember_saved(fields)

    def _remember_saved(self, fields=None):
        """What the row held when this instance last read or wrote it."""
        saved = self.__dict__.setdefault("_saved", {})
        for field in self._meta.concrete_fields:
            if field.attname in self.__dict__ and (fields is None or {field.name, field.attname} & set(fields)):
                saved[field.attname] = self.__dict__[field.attname]

    def _edited(self, names):
        saved = self.__dict__.get("_saved", {})
        attnames = (self._meta.get_field(name).attname for name in names)
        return [a for a in attnames if a in saved and getattr(self, a) != saved[a]]

    def unique_slug(self, base):
        base = (slugify(base) or "issue")[:100]
        if base in RESERVED_ISSUE_SLUGS:
            base = f"{base}-issue"
        slug, n = base, 2
        siblings = Issue.objects.filter(newsletter_id=self.newsletter_id).exclude(pk=self.pk)
        while siblings.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug

    def copy_as_draft(self):
        """A new draft with this issue's content; imported issues are never sent themselves."""
        draft = Issue(
            newsletter=self.newsletter,
            title=self.title,
            subject=self.subject or self.title,
            preheader=self.preheader,
            intro=self.intro,
            sign_off=self.sign_off,
            category=self.category,
            status=Issue.Status.DRAFT,
            **self.second_language_copy(),
        )
        draft.slug = draft.unique_slug(f"{self.title} draft")
        draft.save()
        draft.tags.set(self.tags.all())
        parents = {}
        # Digests before their items, so each item finds its copied parent.
        for section in self.sections.order_by(models.F("parent_id").asc(nulls_first=True), "position"):
            old_pk = section.pk
            links = list(section.links.all())
            section.pk = None
            section.issue = draft
            section.parent = parents.get(section.parent_id)
            section.save()
            parents[old_pk] = section
            for link in links:
                link.pk = None
                link.section = section
                link.save()
        return draft

    def rebuild_search_text(self):
        parts = [self.title, self.intro, self.sign_off, self.second_title, self.second_intro, self.second_sign_off]
        for section in self.sections.all():
            parts += [section.heading, section.body_markdown, section.second_heading, section.second_body_markdown]
        # PostgreSQL's tsvector holds at most 1 MB: index the first SEARCH_TEXT_LIMIT characters, so a huge
        # imported post can still be saved (and is found by everything in its first few hundred pages).
        self.search_text = "\n".join(p for p in parts if p)[:SEARCH_TEXT_LIMIT]
        Issue.objects.filter(pk=self.pk).update(search_text=self.search_text)


def _tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """An issue's tags are content too (its web page lists them)."""
    if action in ("post_add", "post_remove") and pk_set:
        Issue.objects.filter(pk__in=pk_set if reverse else [instance.pk]).content_changed()
    elif action == "post_clear" and not reverse:
        Issue.objects.filter(pk=instance.pk).content_changed()


m2m_changed.connect(_tags_changed, sender=Issue.tags.through, dispatch_uid="issue-approval-tags")
