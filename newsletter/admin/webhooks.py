"""Webhook endpoints per newsletter (the events each wants, its signing secret) and every delivery attempt."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html_join

from newsletter import outbound
from newsletter.models import WebhookAttempt, WebhookEndpoint
from newsletter.models.webhooks import EVENTS


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=1000, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=EVENTS, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["newsletter", "url", "events", "send_addresses", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            outbound.check(url, settings.WEBHOOK_ALLOW_PRIVATE)
        except outbound.Refused as exc:
            raise forms.ValidationError(f"This address cannot receive webhooks: {exc}.") from exc
        return url

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        if endpoint.active:
            endpoint.disabled_reason, endpoint.failing_since = "", None
        if commit:
            endpoint.save()
        return endpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "newsletter", "active", "failing_since", "disabled_reason"]
    list_filter = ["newsletter", "active"]
    readonly_fields = ["secret", "created_by", "failing_since", "disabled_reason", "recent_attempts"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user  # the editor told if the endpoint is ever turned off
        super().save_model(request, obj, form, change)

    @admin.display(description="Last attempts")
    def recent_attempts(self, endpoint):
        rows = endpoint.attempts.all()[:20] if endpoint.pk else []
        return format_html_join(
            "\n",
            "<div>{} · {} · attempt {} · {}</div>",
            ((a.created_at, a.event, a.attempt, a.status_code or a.error) for a in rows),
        )


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "attempt", "status_code", "ok", "error"]
    list_filter = ["ok", "event", "endpoint"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
