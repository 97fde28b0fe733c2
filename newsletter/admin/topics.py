"""Topics in the admin: each newsletter's topics, the topics of a section, and an issue's editions (read-only).

Deleting a topic that a scheduled or sending issue's plan uses is allowed: the send keeps the topics as they
were frozen (newsletter.sending.editions.snapshot), and the editor is told so here.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join

from newsletter.models import Issue, IssueEdition, Section, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "newsletter", "slug", "position"]
    list_editable = ["position"]
    list_filter = ["newsletter"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["newsletter", "name", "slug", "description", "position"]

    def delete_model(self, request, obj):
        self._warn_planned(request, [obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._warn_planned(request, list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)

    def _warn_planned(self, request, topic_ids):
        planned = Issue.objects.filter(
            status__in=[Issue.Status.SCHEDULED, Issue.Status.SENDING, Issue.Status.PAUSED], send_plan__isnull=False
        ).only("title", "send_plan")
        for issue in planned:
            plan = issue.send_plan or {}
            used = set(plan.get("selected", ())).union(*plan.get("sections", {}).values())
            if used & set(topic_ids):
                messages.warning(
                    request,
                    f"“{issue.title}” is {issue.get_status_display().lower()} with this topic: it is sent with the "
                    "topics as they were when it was scheduled or sent, the deleted one included.",
                )


class SectionTopicsMixin:
    """The section's topics as tick boxes, only its newsletter's (for the issue's inline and the section page)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "topics":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            if self.model is Section and getattr(self, "parent_model", None) is Issue:
                newsletter = Issue.objects.filter(pk=object_id).values("newsletter_id")
            else:
                newsletter = Section.objects.filter(pk=object_id).values("issue__newsletter_id")
            kwargs["queryset"] = (
                Topic.objects.filter(newsletter_id__in=newsletter) if object_id else Topic.objects.none()
            )
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs["help_text"] = (
                "Readers who chose one of these get this section in a personal edition. None: everyone gets it."
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(IssueEdition)
class IssueEditionAdmin(admin.ModelAdmin):
    """What each group of an issue's recipients was mailed; written by the send, never edited."""

    list_display = ["issue", "number", "label", "recipients", "created_at"]
    list_filter = ["issue__newsletter"]
    search_fields = ["issue__title", "label"]
    fields = ["issue", "number", "label", "recipients", "subject", "web_url", "sections", "text"]
    readonly_fields = fields

    @admin.display(description="Sections")
    def sections(self, obj):
        headings = dict(Section.objects.filter(pk__in=obj.section_ids).values_list("pk", "heading"))
        return format_html_join("", "<li>{}</li>", ((headings.get(pk) or f"Section {pk}",) for pk in obj.section_ids))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
