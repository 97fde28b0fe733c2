"""Admin for sending: the read-only Delivery list, and the send/pause/resume/retry actions and live
progress that IssueAdmin (admin/content.py) takes from IssueSendingMixin. The work itself is in
newsletter.sending.workflow."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse

from newsletter.models import Delivery, Issue
from newsletter.sending import workflow


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["issue", "subscriber", "status", "attempts", "sent_at", "bounce", "last_error_short"]
    list_filter = ["status", "bounce", "issue__newsletter"]
    search_fields = ["subscriber__email", "message_id"]
    list_select_related = ["issue", "subscriber"]
    raw_id_fields = ["issue", "subscriber"]
    show_full_result_count = False  # counting every row of a 100,000-recipient send on each page is slow

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return obj.last_error[:80]


class IssueSendingMixin:
    """Send now (redirects to the one confirmation screen), pause, resume, retry failed, and a progress display."""

    sending_actions = ["send_now", "pause_sending", "resume_sending", "retry_failed_deliveries"]

    @property
    def media(self):
        # A property, not `class Media`, so it adds to the ModelAdmin's own Media instead of being replaced.
        return super().media + forms.Media(js=["newsletter/admin-progress.js"])

    def has_send_permission(self, request):
        return request.user.has_perm(Issue.SEND_PERMISSION)

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/delivery-progress/",
                self.admin_site.admin_view(self.progress_view),
                name="newsletter_issue_progress",
            )
        ]
        return extra + super().get_urls()

    def progress_view(self, request, object_id):
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        counts = workflow.progress(issue)
        return JsonResponse({**counts, "status_label": Issue.Status(counts["status"]).label})

    @admin.display(description="Delivery")
    def delivery_progress(self, obj):
        if obj is None or obj.pk is None or obj.status in (Issue.Status.DRAFT, Issue.Status.IMPORTED):
            return "–"
        return render_to_string(
            "admin/newsletter/issue/delivery_progress.html",
            {"progress": workflow.progress(obj), "url": reverse("admin:newsletter_issue_progress", args=[obj.pk])},
        )

    @admin.action(description="Send now…", permissions=["send"])
    def send_now(self, request, queryset):
        """The one "Send now" screen is the review page's (editor:send_now): go there for the chosen issue."""
        if queryset.count() != 1:
            self.message_user(request, "Choose one issue to send at a time.", messages.WARNING)
            return None
        return redirect(reverse("editor:send_now", args=[queryset.get().pk]))

    @admin.action(description="Pause sending", permissions=["send"])
    def pause_sending(self, request, queryset):
        paused = sum(workflow.pause(issue) for issue in queryset)
        self.message_user(request, f"Paused {paused} issue(s).")

    @admin.action(description="Resume sending", permissions=["send"])
    def resume_sending(self, request, queryset):
        resumed = sum(workflow.resume(issue) for issue in queryset)
        self.message_user(request, f"Resumed {resumed} issue(s).")

    @admin.action(description="Retry failed deliveries", permissions=["send"])
    def retry_failed_deliveries(self, request, queryset):
        count = sum(workflow.retry_failed(issue) for issue in queryset)
        self.message_user(request, f"Retrying {count} failed deliveries.")
