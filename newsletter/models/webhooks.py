"""Webhook endpoints editors register per newsletter, and every attempt to deliver to them (newsletter.webhooks)."""

import secrets

from django.conf import settings
from django.db import models

from newsletter.models.content import Newsletter

EVENTS = (
    ("subscription.confirmed", "A subscription is confirmed"),
    ("subscription.ended", "A subscription ends (with the reason)"),
    ("issue.sent", "An issue has been sent (with counts)"),
    ("delivery.bounced", "A delivery bounced"),
    ("contribution.received", "A contribution arrived in the inbox"),
)


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    newsletter = models.ForeignKey(Newsletter, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=1000)
    events = models.JSONField(default=list, help_text="The events posted to this URL.")
    secret = models.CharField(max_length=80, default=new_secret, help_text="Signs every POST (docs/api.md).")
    send_addresses = models.BooleanField(
        "may receive email addresses",
        default=False,
        help_text="Subscription events carry the subscriber's address only when this is ticked.",
    )
    active = models.BooleanField(default=True, help_text="Turned off after a day of failures.")
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The editor told by email when the endpoint is turned off.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["newsletter", "url"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.url

    def wants(self, event):
        return self.active and event in self.events


class WebhookAttempt(models.Model):
    """One POST to an endpoint: its answer, or why there was none."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts")
    event = models.CharField(max_length=40)
    event_id = models.CharField(max_length=36, help_text="The same for every retry of one event.")
    attempt = models.PositiveSmallIntegerField(default=1)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    ok = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "created_at"], name="webhook_attempt_idx")]

    def __str__(self):
        return f"{self.event} → {self.status_code or self.error[:40]}"
