"""What an issue is made of: ordered sections, their links and images, and readers' comments."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils.text import slugify

from newsletter.markup import markdown_to_html
from newsletter.models.content import Issue


class Section(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        EVENT = "event", "Event"
        DIGEST = "digest", "Digest group"
        DIGEST_ITEM = "digest_item", "Digest item"
        COLUMN = "column", "Column"
        CLOSING = "closing", "Closing (“And lastly…”)"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="items", help_text="The digest group."
    )
    position = models.PositiveIntegerField(default=0)
    heading = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ARTICLE)
    body_markdown = models.TextField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    source = models.CharField("source attribution", max_length=300, blank=True)
    event_date = models.DateField(null=True, blank=True)
    event_time = models.TimeField(null=True, blank=True)
    venue = models.CharField(max_length=300, blank=True)
    fee = models.CharField(max_length=300, blank=True)
    booking = models.TextField(blank=True, help_text="Markdown.")
    # The same in the newsletter's second language, when it is bilingual (newsletter.models.languages).
    second_heading = models.CharField("heading", max_length=300, blank=True)
    second_body_markdown = models.TextField("body markdown", blank=True)
    second_body_html = models.TextField(blank=True, editable=False)
    second_source = models.CharField("source attribution", max_length=300, blank=True)
    second_venue = models.CharField("venue", max_length=300, blank=True)
    second_fee = models.CharField("fee", max_length=300, blank=True)
    second_booking = models.TextField("booking", blank=True, help_text="Markdown.")
    topics = models.ManyToManyField(
        "newsletter.Topic",
        blank=True,
        related_name="sections",
        help_text="Readers who chose these topics get this section in a personal edition; none: everyone gets it.",
    )
    # The topics the importer last gave this section (newsletter.importer.topics): while the section's topics are
    # still exactly these, the importer may change them; once an editor changes them, it never touches them again.
    imported_topic_ids = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["issue", "parent", "position"], name="section_order_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="digest_item") | Q(parent__isnull=False),
                name="digest_item_has_parent",
            ),
        ]

    def __str__(self):
        return self.heading or f"{self.get_kind_display()} {self.position}"

    def save(self, *args, **kwargs):
        self.body_html = markdown_to_html(self.body_markdown)
        self.second_body_html = markdown_to_html(self.second_body_markdown)
        super().save(*args, **kwargs)

    def clean(self):
        if self.parent_id:
            if self.parent.parent_id:
                raise ValidationError("Sections nest one level only.")
            if self.parent.kind != self.Kind.DIGEST:
                raise ValidationError("Only a digest group holds items.")

    @property
    def anchor(self):
        return f"s{self.position}-{slugify(self.heading)[:40]}".rstrip("-")

    @property
    def booking_html(self):
        return markdown_to_html(self.booking)

    @property
    def is_event(self):
        return self.kind == self.Kind.EVENT


class Link(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="links")
    position = models.PositiveIntegerField(default=0)
    url = models.URLField(max_length=1000)
    title = models.CharField(max_length=300, blank=True)
    source = models.CharField("source attribution", max_length=300, blank=True)
    # Filled by the link check (never on import); an editor sees broken links before sending.
    check_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last check.")
    check_error = models.CharField(max_length=300, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title or self.url

    @property
    def is_broken(self):
        if self.checked_at is None:
            return False
        return bool(self.check_error) or self.check_status is None or self.check_status >= 400


class SectionImage(models.Model):
    """An image in a section; stored under MEDIA_ROOT and linked with an absolute URL in emails."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="images")
    # The size is read here at upload, not by ImageField's width_field: that reads the file every time a row
    # is loaded without one, and a file missing from disk would then break every page listing the image.
    image = models.ImageField(upload_to="sections/%Y/%m/")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    alt_text = models.CharField(max_length=300, help_text="Describe the image for people who cannot see it.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.alt_text

    def save(self, *args, **kwargs):
        if self.image and (self.width is None or not self.image._committed):
            try:
                self.width, self.height = self.image.width, self.image.height
            except (OSError, ValueError):  # not on disk, or not an image Pillow reads: size unknown
                self.width = self.height = None
        super().save(*args, **kwargs)


class CommentQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(hidden=False)


class Comment(models.Model):
    """A reader comment kept with an imported article, apart from its sections."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    position = models.PositiveIntegerField(default=0)
    author = models.CharField(max_length=200, blank=True)
    posted_on = models.DateField(null=True, blank=True)
    body_markdown = models.TextField()
    hidden = models.BooleanField(default=False, help_text="Hidden comments are not shown in the archive.")

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.author or 'Reader'}: {self.body_markdown[:60]}"

    @property
    def body_html(self):
        return markdown_to_html(self.body_markdown)


# An approval is for the content approved: adding, changing or removing a section, a link or an
# image withdraws it (Issue.objects.content_changed(), models/rules.py), whichever door did it.


def _section_changed(sender, instance, **kwargs):
    issue = Section.issue.field.get_cached_value(instance, default=None)
    if issue is not None and issue.status not in Issue.APPROVABLE_STATUSES:
        return  # sending, sent or imported for good (the importer writes its sections this way): nothing to withdraw
    Issue.objects.filter(pk=instance.issue_id).content_changed()


def _part_changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= LINK_CHECK_FIELDS:
        return  # the link check's findings are not content
    Issue.objects.filter(sections=instance.section_id).content_changed()


LINK_CHECK_FIELDS = {"check_status", "check_error", "checked_at"}
post_save.connect(_section_changed, sender=Section, dispatch_uid="issue-approval-section-save")
post_delete.connect(_section_changed, sender=Section, dispatch_uid="issue-approval-section-delete")
for _model in (Link, SectionImage):
    post_save.connect(_part_changed, sender=_model, dispatch_uid=f"issue-approval-{_model.__name__}-save")
    post_delete.connect(_part_changed, sender=_model, dispatch_uid=f"issue-approval-{_model.__name__}-delete")
