from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from newsletter.models import Comment, Issue, Link, Newsletter, Section, Tag


@admin.register(Newsletter)
class NewsletterAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cadence", "sender_email", "issue_count", "active_subscribers"]
    list_filter = ["cadence"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

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


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = [
        ("position", "kind", "parent"),
        "heading",
        "body_markdown",
        "source",
        ("event_date", "event_time", "venue"),
        ("fee", "booking"),
    ]
    ordering = ["parent_id", "position"]
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A digest item's parent must be a digest group of the same issue.
        if db_field.name == "parent":
            issue_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Section.objects.filter(issue_id=issue_id, kind=Section.Kind.DIGEST)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    fields = ["position", "author", "posted_on", "body_markdown", "hidden"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["title", "newsletter", "display_date", "status", "category", "section_count", "view_link"]
    list_filter = ["newsletter", "status", "category", "tags"]
    search_fields = ["title", "subject", "intro", "sections__heading"]
    date_hierarchy = "issue_date"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    readonly_fields = ["source_file", "source_ordinal", "source_hash", "created_at", "updated_at"]
    inlines = [SectionInline, CommentInline]
    actions = ["copy_into_draft"]
    fieldsets = [
        (None, {"fields": ["newsletter", "title", "slug", "status", ("issue_date", "date_precision")]}),
        ("Email", {"fields": ["subject", "preheader"]}),
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

    @admin.display(description="Web")
    def view_link(self, obj):
        if not obj.is_published:
            return "–"
        return format_html('<a href="{}">view</a>', obj.get_absolute_url())

    def save_model(self, request, obj, form, change):
        if change and obj.source_file:
            obj.edited_in_admin = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.rebuild_search_text()

    @admin.action(description="Copy into a new draft")
    def copy_into_draft(self, request, queryset):
        drafts = [issue.copy_as_draft() for issue in queryset.prefetch_related("sections__links")]
        self.message_user(request, f"Created {len(drafts)} draft(s).", messages.SUCCESS)
        if len(drafts) == 1:
            return redirect(reverse("admin:newsletter_issue_change", args=[drafts[0].pk]))
        return None


class LinkInline(admin.TabularInline):
    model = Link
    extra = 0
    fields = ["position", "title", "url", "source"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "issue", "kind", "position", "parent"]
    list_filter = ["kind", "issue__newsletter"]
    search_fields = ["heading", "body_markdown"]
    list_select_related = ["issue", "parent"]
    raw_id_fields = ["issue", "parent"]
    inlines = [LinkInline]


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
