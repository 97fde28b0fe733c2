from adminsortable2.admin import SortableAdminBase, SortableStackedInline
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from newsletter.admin.accessible import LabelledTabularInline
from newsletter.admin.delivery import IssueSendingMixin
from newsletter.admin.languages import BilingualIssueMixin, BilingualSectionsMixin, label_languages
from newsletter.admin.topics import SectionTopicsMixin
from newsletter.editor.weekly import start_next_issue
from newsletter.markup import markdown_problems
from newsletter.models import Comment, Issue, Link, Newsletter, Section, SectionImage, Tag


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cadence", "sender_email", "issue_count", "active_subscribers"]
    list_filter = ["cadence"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["embed_code"]

    @admin.display(description="Subscribe form to embed")
    def embed_code(self, obj):
        from newsletter.admin.subscribers import embed_code

        return embed_code(obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                issue_total=Count("issues", distinct=True),
                active_total=Count("subscriptions", filter=Q(subscriptions__status="active"), distinct=True),
            )
        )

    @admin.display(description="Issues", ordering="issue_total")
    def issue_count(self, obj):
        return obj.issue_total

    @admin.display(description="Active subscribers", ordering="active_total")
    def active_subscribers(self, obj):
        return obj.active_total


class SafeMarkdownForm(forms.ModelForm):
    """Refuses Markdown the sanitiser would strip, with the reason on the field."""

    markdown_fields = ()
    languages = ()  # a bilingual newsletter's two (admin/languages.py): each field's label and lang say which

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_languages(self, self.languages)

    def clean(self):
        cleaned = super().clean()
        for name in self.markdown_fields:
            problems = markdown_problems(cleaned.get(name) or "")
            if problems:
                self.add_error(name, " ".join(problems) + " Remove it; it would not reach readers.")
        return cleaned


class SectionForm(SafeMarkdownForm):
    markdown_fields = ("body_markdown", "booking", "second_body_markdown", "second_booking")

    class Meta:
        model = Section
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin picks the fields

    def has_changed(self):
        # editor.js renumbers every row's hidden position, new rows included; a new row whose only
        # change is its position was never written in, and is left out as Django leaves out an empty row.
        if self.instance._state.adding:
            return any(name != "position" for name in self.changed_data)
        return super().has_changed()


class IssueForm(SafeMarkdownForm):
    markdown_fields = ("intro", "sign_off", "second_intro", "second_sign_off")

    class Meta:
        model = Issue
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin picks the fields
        widgets = {
            "subject": forms.TextInput(attrs={"data-count": "60", "size": 70}),
            "preheader": forms.TextInput(attrs={"data-count": "100", "size": 90}),
            "second_subject": forms.TextInput(attrs={"data-count": "60", "size": 70}),
            "second_preheader": forms.TextInput(attrs={"data-count": "100", "size": 90}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "visibility" in self.fields:  # blank only while new: it then takes the newsletter's default (Issue.save)
            blank = [("", "The newsletter's default")] if self.instance._state.adding else []
            self.fields["visibility"].choices = blank + list(Issue.Visibility.choices)
            self.fields["visibility"].required = not blank


class SectionInline(BilingualSectionsMixin, SectionTopicsMixin, SortableStackedInline):
    """Sections in reading order: drag to reorder, or use the Move up / Move down buttons."""

    model = Section
    form = SectionForm
    extra = 0
    fields = [
        ("kind", "parent"),
        "heading",
        "body_markdown",
        "source",
        ("event_date", "event_time", "venue"),
        ("fee", "booking"),
        "topics",
    ]  # a bilingual newsletter's: each text field beside its second language's (admin/languages.py)
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A digest item's parent must be a digest group of the same issue.
        if db_field.name == "parent":
            issue_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Section.objects.filter(issue_id=issue_id, kind=Section.Kind.DIGEST)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # `obj` is the issue: its sections are read-only while it sends (a sent issue's web page may be corrected).
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.sections_locked)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.sections_locked)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.sections_locked)


class CommentInline(LabelledTabularInline):
    model = Comment
    extra = 0
    fields = ["position", "author", "posted_on", "body_markdown", "hidden"]


class CategoryFilter(admin.AllValuesFieldListFilter):
    """Django lists issues with a blank category under a link with no text (axe link-name); it says so here."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            display = str(choice["display"])
            if display == "" or display.startswith(" ("):  # blank, with or without its count ("show counts")
                choice = {**choice, "display": "No category" + display}
            yield choice


@admin.register(Issue)
class IssueAdmin(BilingualIssueMixin, IssueSendingMixin, SortableAdminBase, admin.ModelAdmin):
    form = IssueForm
    list_display = ["title", "newsletter", "display_date", "status", "visibility", "category", "section_count"]
    list_display += ["review_link"]
    list_filter = ["newsletter", "status", "visibility", ("category", CategoryFilter), "tags"]
    search_fields = ["title", "subject", "intro", "sections__heading"]
    date_hierarchy = "issue_date"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    readonly_fields = [
        "status",
        "review_link",
        "source_file",
        "source_ordinal",
        "source_hash",
        "created_at",
        "updated_at",
    ]
    readonly_fields += ["delivery_progress"]  # sending (admin/delivery.py)
    inlines = [SectionInline, CommentInline]
    actions = ["copy_into_draft", "start_next_week", *IssueSendingMixin.sending_actions]
    # What was mailed is frozen; a correction is a new issue or an edit to the web version only.
    LOCKED_FIELDS = ["newsletter", "title", "slug", "subject", "preheader", "issue_date", "date_precision"]

    class Media:
        js = ["newsletter/editor.js", "newsletter/section-kind.js"]
        css = {"all": ["newsletter/editor.css"]}

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj and obj.is_locked else super().get_prepopulated_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj and obj.is_locked:
            fields += self.LOCKED_FIELDS
        return fields

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "newsletter",
                    "title",
                    "slug",
                    ("status", "review_link"),
                    ("issue_date", "date_precision"),
                    "visibility",
                ]
            },
        ),
        ("Email", {"fields": ["subject", "preheader", "delivery_progress"]}),
        ("Content", {"fields": ["intro", "sign_off", "category", "tags"]}),
        (
            "Imported from",
            {
                "classes": ["collapse"],
                "fields": [
                    "source_file",
                    "source_ordinal",
                    "source_hash",
                    "edited_in_admin",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("newsletter")
            .annotate(section_total=Count("sections", distinct=True))
        )

    @admin.display(description="Sections", ordering="section_total")
    def section_count(self, obj):
        return obj.section_total

    @admin.display(description="Date", ordering="issue_date")
    def display_date(self, obj):
        return obj.display_date

    @admin.display(description="Preview and send")
    def review_link(self, obj):
        if not obj or not obj.pk:
            return "Save the issue first."
        review = reverse("editor:review", args=[obj.pk])
        label = "Review and send" if obj.status in (Issue.Status.DRAFT, Issue.Status.SCHEDULED) else "Preview"
        web = format_html(' · <a href="{}">web page</a>', obj.get_absolute_url()) if obj.is_published else ""
        if obj.status in Issue.APPROVABLE_STATUSES:  # the composer (editor/compose.py)
            web = format_html(' · <a href="{}">Compose</a>{}', reverse("editor:compose", args=[obj.pk]), web)
        return format_html('<a href="{}">{}</a>{}', review, label, web)

    def save_model(self, request, obj, form, change):
        form.was_approved = change and obj.approved_at is not None  # as this editor loaded it
        if change and obj.source_file:
            obj.edited_in_admin = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        issue = form.instance
        issue.rebuild_search_text()
        # The model withdrew the approval if the content changed (models/rules.py: content_changed); say so.
        if getattr(form, "was_approved", False) and not Issue.objects.filter(pk=issue.pk, approved_at__isnull=False):
            self.message_user(request, "The issue changed since it was approved; it needs approving again.")

    @admin.action(description="Start next week's issue from this one")
    def start_next_week(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one issue to start next week's from.", messages.WARNING)
            return None
        draft = start_next_issue(queryset.get())
        self.message_user(request, f"Started “{draft.title}”, dated {draft.display_date}.", messages.SUCCESS)
        return redirect(reverse("admin:newsletter_issue_change", args=[draft.pk]))

    @admin.action(description="Copy into a new draft")
    def copy_into_draft(self, request, queryset):
        drafts = [issue.copy_as_draft() for issue in queryset.prefetch_related("sections__links")]
        self.message_user(request, f"Created {len(drafts)} draft(s).", messages.SUCCESS)
        if len(drafts) == 1:
            return redirect(reverse("admin:newsletter_issue_change", args=[drafts[0].pk]))
        return None


class LinkInline(LabelledTabularInline):
    model = Link
    extra = 0
    fields = ["position", "title", "url", "source"]


class SectionImageInline(LabelledTabularInline):
    model = SectionImage
    extra = 1
    fields = ["image", "alt_text", "position"]


@admin.register(Section)
class SectionAdmin(BilingualSectionsMixin, SectionTopicsMixin, admin.ModelAdmin):
    form = SectionForm
    list_display = ["__str__", "issue", "kind", "position", "parent"]
    list_filter = ["kind", "issue__newsletter"]
    search_fields = ["heading", "body_markdown"]
    list_select_related = ["issue", "parent"]
    raw_id_fields = ["issue", "parent"]
    inlines = [LinkInline, SectionImageInline]

    class Media:
        js = ["newsletter/section-kind.js"]  # event fields for events only
        css = {"all": ["newsletter/editor.css"]}


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ["url", "title", "section", "source"]
    search_fields = ["url", "title"]
    list_select_related = ["section"]
    raw_id_fields = ["section"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "issue", "hidden"]
    list_filter = ["hidden", "issue__newsletter"]
    list_editable = ["hidden"]
    search_fields = ["body_markdown", "author"]
    list_select_related = ["issue"]
    raw_id_fields = ["issue"]
    actions = ["hide", "show"]

    @admin.action(description="Hide selected comments")
    def hide(self, request, queryset):
        queryset.update(hidden=True)

    @admin.action(description="Show selected comments")
    def show(self, request, queryset):
        queryset.update(hidden=False)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
