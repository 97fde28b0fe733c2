"""The domain: newsletters, their issues and sections, and who receives them."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from newsletter.addresses import canonical_address, email_hash
from newsletter.markup import markdown_to_html

# URL paths the site uses beside /<newsletter>/ and /<newsletter>/<issue>/.
RESERVED_NEWSLETTER_SLUGS = frozenset(
    {
        "admin",
        "api",
        "search",
        "tags",
        "static",
        "media",
        "subscribe",
        "preferences",
        "unsubscribe",
        "contribute",
        "health",
        "anymail",
    }
)
RESERVED_ISSUE_SLUGS = frozenset({"feed", "events", "calendar"})


def _not_reserved(reserved):
    def validate(value):
        if value in reserved:
            raise ValidationError(f"“{value}” is used by the site's own pages; choose another slug.")

    return validate


def validate_newsletter_slug(value):
    _not_reserved(RESERVED_NEWSLETTER_SLUGS)(value)


def validate_issue_slug(value):
    _not_reserved(RESERVED_ISSUE_SLUGS)(value)


class Newsletter(models.Model):
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


class IssueQuerySet(models.QuerySet):
    def published(self):
        """Issues readers can see in the archive: sent or imported."""
        return self.filter(status__in=Issue.PUBLISHED_STATUSES)

    def newest_first(self):
        return self.order_by(models.F("issue_date").desc(nulls_last=True), "-created_at", "-id")


class Issue(models.Model):
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
    # Allowed status changes; anything else is refused by transition_to().
    TRANSITIONS = {
        Status.DRAFT: {Status.SCHEDULED, Status.SENDING},
        Status.SCHEDULED: {Status.DRAFT, Status.SENDING},
        Status.SENDING: {Status.PAUSED, Status.SENT},
        Status.PAUSED: {Status.SENDING},
        Status.SENT: set(),
        Status.IMPORTED: set(),
    }

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

    def get_absolute_url(self):
        return reverse("archive:issue", args=[self.newsletter.slug, self.slug])

    @property
    def is_published(self):
        return self.status in self.PUBLISHED_STATUSES

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
        if self.date_precision == self.DatePrecision.MONTH:
            return self.issue_date.strftime("%B %Y")
        return f"{self.issue_date.day} {self.issue_date.strftime('%B %Y')}"

    @property
    def intro_html(self):
        return markdown_to_html(self.intro)

    @property
    def sign_off_html(self):
        return markdown_to_html(self.sign_off)

    def can_transition_to(self, status):
        return status in self.TRANSITIONS[self.status]

    def transition_to(self, status):
        if not self.can_transition_to(status):
            raise ValidationError(f"An issue cannot go from {self.get_status_display()} to {status}.")
        self.status = status

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
        parts = [self.title, self.intro, self.sign_off]
        for section in self.sections.all():
            parts += [section.heading, section.body_markdown]
        self.search_text = "\n".join(p for p in parts if p)
        Issue.objects.filter(pk=self.pk).update(search_text=self.search_text)


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
    image = models.ImageField(upload_to="sections/%Y/%m/")
    alt_text = models.CharField(max_length=300, help_text="Describe the image for people who cannot see it.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.alt_text


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


class ContributionQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=Contribution.Status.NEW)


class Contribution(models.Model):
    """An item a colleague suggests for the next issue, through the public form."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="contributions")
    title = models.CharField(max_length=200)
    url = models.URLField("link", max_length=1000, blank=True)
    summary = models.TextField(max_length=3000)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Where it was used."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["newsletter", "status"], name="contribution_inbox_idx")]

    def __str__(self):
        return self.title


class Subscriber(models.Model):
    email = models.EmailField(max_length=254, unique=True, help_text="Stored normalised (lower case).")
    name = models.CharField(max_length=200, blank=True)
    last_confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Confirmation mails to one address are throttled."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = canonical_address(self.email)
        super().save(*args, **kwargs)


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Subscription.Status.ACTIVE)


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active", "Active"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"

    class Method(models.TextChoices):
        FORM = "form", "Subscribe form"
        EMBED = "embed", "Embedded form or API"
        IMPORT = "import", "CSV import"
        ADMIN = "admin", "Added by an editor"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="subscriptions")
    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Consent: how and when, and what the person agreed to.
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.FORM)
    consent_text = models.TextField(blank=True, help_text="The wording the person agreed to.")
    privacy_notice_version = models.CharField(max_length=20, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "newsletter"], name="one_subscription_per_newsletter"),
        ]
        indexes = [models.Index(fields=["newsletter", "status"], name="subscription_audience_idx")]

    def __str__(self):
        return f"{self.subscriber} → {self.newsletter} ({self.status})"

    def activate(self):
        self.status = self.Status.ACTIVE
        self.confirmed_at = timezone.now()
        self.unsubscribed_at = None

    def unsubscribe(self):
        self.status = self.Status.UNSUBSCRIBED
        self.unsubscribed_at = timezone.now()


class Suppression(models.Model):
    """Addresses that left or were erased, kept only as a hash, so nobody re-adds them without their consent."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        ERASED = "erased", "Personal data erased"
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Spam complaint"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.email_hash[:12]}… ({self.reason})"

    @classmethod
    def add(cls, address, reason):
        cls.objects.update_or_create(email_hash=email_hash(address), defaults={"reason": reason})

    @classmethod
    def is_suppressed(cls, address):
        return cls.objects.filter(email_hash=email_hash(address)).exists()

    @classmethod
    def lift(cls, address):
        """Only after the person has confirmed again."""
        cls.objects.filter(email_hash=email_hash(address)).delete()


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        """Deliveries a worker may claim: pending, or claimed by a worker whose lease has run out."""
        now = now or timezone.now()
        return self.filter(
            Q(status=Delivery.Status.PENDING, retry_after__isnull=True)
            | Q(status=Delivery.Status.PENDING, retry_after__lte=now)
            | Q(status=Delivery.Status.SENDING, leased_until__lt=now)
        )


class Delivery(models.Model):
    """One issue to one subscriber: the unit of sending, claimed with a lease so nobody gets two copies."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unsubscribed before sending)"

    class Bounce(models.TextChoices):
        HARD = "hard", "Hard bounce"
        SOFT = "soft", "Soft bounce"
        COMPLAINT = "complaint", "Complaint"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    # Erasing a subscriber keeps the delivery for the issue's statistics, anonymous.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    # Unique to one claim: every write after sending checks it, so a worker whose lease was taken over
    # changes nothing (newsletter.delivery).
    lease_token = models.BigIntegerField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    bounce = models.CharField(max_length=9, choices=Bounce.choices, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="one_delivery_per_issue_and_subscriber"),
        ]
        indexes = [
            models.Index(fields=["issue", "status"], name="delivery_progress_idx"),
            models.Index(fields=["status", "leased_until"], name="delivery_claim_idx"),
            models.Index(fields=["subscriber", "bounced_at"], name="delivery_bounce_idx"),
            # Only the open rows of a send, in id order: claims of retries and expired leases at the tail of
            # a send read these few rows instead of walking the primary key past every older issue's rows.
            models.Index(
                fields=["issue", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_open_idx",
            ),
        ]

    def __str__(self):
        return f"{self.issue} → {self.subscriber or 'erased subscriber'} ({self.status})"


class IssueDeliveryStats(models.Model):
    """An issue's delivery totals, written once when its Delivery rows are pruned (newsletter.housekeeping).

    Once this row exists it is the issue's record: progress and the dashboard read it instead of counting rows.
    `bounced` counts hard and soft bounces; complaints are counted apart.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, primary_key=True, related_name="delivery_stats")
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    pruned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "issue delivery stats"

    def __str__(self):
        return f"{self.issue}: {self.sent} of {self.total} sent"
