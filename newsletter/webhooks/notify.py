"""Telling people about their endpoints: the editor who registered an endpoint is mailed when it is
turned off after a day of failures (the site's managers when nobody is on record)."""

import json
import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from newsletter.mail import headers as mail_headers
from newsletter.mail.signing import SignedEmail
from newsletter.models import WebhookEndpoint
from newsletter.tokens import absolute

logger = logging.getLogger(__name__)


def endpoint_disabled(endpoint_id):
    """Mail the endpoint's owner that it was turned off, with its last error and where to fix it."""
    endpoint = WebhookEndpoint.objects.select_related("newsletter", "created_by").get(pk=endpoint_id)
    owner = endpoint.created_by
    recipients = [owner.email] if owner is not None and owner.email else [email for _, email in settings.MANAGERS]
    if not recipients:
        logger.warning(json.dumps({"event": "webhook_disabled_nobody_told", "endpoint": endpoint_id}))
        return 0
    last = endpoint.attempts.order_by("-created_at", "-id").first()
    context = {
        "endpoint": endpoint,
        "owner": owner,
        "last_error": (last.error or f"HTTP {last.status_code}") if last else "",
        "change_url": absolute(reverse("admin:newsletter_webhookendpoint_change", args=[endpoint.pk])),
    }
    subject = " ".join(render_to_string("email/webhook-disabled-subject.txt", context).split())
    message = SignedEmail(
        subject=subject,
        body=render_to_string("email/webhook-disabled-body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={
            "Date": mail_headers.date_header(),
            "Message-ID": mail_headers.message_id(endpoint.newsletter),
            "Auto-Submitted": "auto-generated",
        },
    )
    return message.send()
