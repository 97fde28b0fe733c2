"""Admin for sending: the read-only Delivery list, and the send/pause/resume/retry actions and live
progress that IssueAdmin (admin/content.py) takes from IssueSendingMixin. The work itself is in
newsletter.sending.workflow."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from newsletter.models import Delivery, Issue
from newsletter.rendering import HTML_SIZE_WARNING, render_issue
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
    """Send now (with a confirmation page), pause, resume, retry failed, and a progress display."""

    sending_actions = ["send_now", "pause_sending", "resume_sending", "retry_failed_deliveries"]

    @property
    def media(self):
        # A property, not `class Media`, so it adds to the ModelAdmin's own Media instead of being replaced.
        return super().media + forms.Media(js=["newsletter/admin-progress.js"])

    def has_send_permission(self, request):
        return request.user.has_perm("newsletter.send_issue")

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
        return JsonResponse(workflow.progress(issue))

    @admin.display(description="Delivery")
    def delivery_progress(self, obj):
        if obj is None or obj.pk is None or obj.status in (Issue.Status.DRAFT, Issue.Status.IMPORTED):
            return "–"
        counts = workflow.progress(obj)
        url = reverse("admin:newsletter_issue_progress", args=[obj.pk])
        return format_html(
            '<span class="delivery-progress" data-url="{}">{} total · {} sent · {} failed · {} pending · '
            "{} skipped · {}/s · {}</span>",
            url,
            counts["total"],
            counts["sent"],
            counts["failed"],
            counts["pending"],
            counts["skipped"],
            counts["rate"],
            counts["status"],
        )

    @admin.action(description="Send now…", permissions=["send"])
    def send_now(self, request, queryset):
        issues = list(queryset.select_related("newsletter"))
        blocked = [(issue, workflow.can_send(issue, request.user)) for issue in issues]
        sendable = [issue for issue, problems in blocked if not problems]
        if request.POST.get("confirm") == "yes":
            started = 0
            for issue in sendable:
                try:
                    workflow.start_send(issue, user=request.user)
                    started += 1
                except workflow.SendError as exc:
                    self.message_user(request, f"{issue}: {exc.message}", messages.ERROR)
            if started:
                self.message_user(request, f"Sending {started} issue(s); progress shows on each issue's page.")
            return None
        rows = []
        for issue in sendable:
            rendered = render_issue(issue)
            rows.append(
                {
                    "issue": issue,
                    "recipients": workflow.audience_count(issue),
                    "html_kb": round(rendered.html_size / 1024),
                    "too_big": rendered.too_big,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Send these issues now?",
            "rows": rows,
            "blocked": [(issue, problems) for issue, problems in blocked if problems],
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "size_limit_kb": HTML_SIZE_WARNING // 1024,
        }
        return TemplateResponse(request, "admin/newsletter/issue/send_confirmation.html", context)

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
