"""The contributions inbox."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from newsletter.editor.contributions import NoDraft, accept, decline
from newsletter.models import Contribution


@admin.register(Contribution)
class ContributionAdmin(admin.ModelAdmin):
    list_display = ["title", "newsletter", "contact_name", "status", "created_at", "used_in"]
    list_filter = ["status", "newsletter"]
    search_fields = ["title", "summary", "contact_name", "contact_email"]
    readonly_fields = ["status", "section", "created_at", "decided_at"]
    list_select_related = ["newsletter", "section__issue"]
    actions = ["accept_into_draft", "decline_selected"]

    @admin.display(description="Used in")
    def used_in(self, obj):
        if not obj.section_id:
            return "–"
        url = reverse("admin:newsletter_issue_change", args=[obj.section.issue_id])
        return format_html('<a href="{}">{}</a>', url, obj.section.issue)

    @admin.action(description="Accept into the current draft")
    def accept_into_draft(self, request, queryset):
        for contribution in queryset.filter(status=Contribution.Status.NEW).select_related("newsletter"):
            try:
                section = accept(contribution)
            except NoDraft as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            url = reverse("admin:newsletter_issue_change", args=[section.issue_id])
            self.message_user(
                request,
                format_html('Added “{}” to <a href="{}">{}</a>.', contribution.title, url, section.issue),
                messages.SUCCESS,
            )

    @admin.action(description="Decline")
    def decline_selected(self, request, queryset):
        waiting = list(queryset.filter(status=Contribution.Status.NEW))
        for contribution in waiting:
            decline(contribution)
        self.message_user(request, f"Declined {len(waiting)} suggestion(s).", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["title"] = f"Contributions inbox ({Contribution.objects.waiting().count()} waiting)"
        return super().changelist_view(request, extra_context)
