"""One POST to one endpoint: signed, sent through newsletter.outbound (no internal targets unless
WEBHOOK_ALLOW_PRIVATE), logged as a WebhookAttempt; and the policy for trying again.

The signature: X-Newsletter-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>, with
X-Newsletter-Timestamp: <unix seconds> (docs/api.md shows how to check it).
"""

import datetime
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.utils import timezone

from newsletter import outbound
from newsletter.models import WebhookAttempt, WebhookEndpoint
from newsletter.webhooks import notify

logger = logging.getLogger(__name__)

RETRY_FOR = datetime.timedelta(days=1)  # an event is tried for a day; an endpoint failing that long is disabled
BACKOFF_FIRST, BACKOFF_MAX = 30, 3600  # seconds: 30 s, 1 min, 2 min … then hourly
TIMEOUT = 10
USER_AGENT = "WeeklyUpdate-Webhooks/1"


def envelope(event, data):
    return json.dumps(
        {"id": str(uuid.uuid4()), "event": event, "created_at": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


def signature(secret, timestamp, body):
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff(retries):
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2**retries)


def post(endpoint, event, body, attempt=1):
    """POST the body once and log it. Returns True when the endpoint answered 2xx."""
    allow = getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False)
    event_id = json.loads(body).get("id", "")
    status, error = None, ""
    try:
        outbound.check(endpoint.url, allow)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            endpoint.url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Newsletter-Event": event,
                "X-Newsletter-Timestamp": timestamp,
                "X-Newsletter-Signature": signature(endpoint.secret, timestamp, body),
            },
        )
        # Not redirected: urllib would turn the POST into a GET without its body and signature.
        with outbound.opener(allow, follow_redirects=False).open(request, timeout=TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
        if 300 <= exc.code < 400:
            location = (exc.headers.get("Location") or "")[:200] if exc.headers else ""
            error += f": redirected to {location or 'another URL'}; webhooks do not follow redirects, register that URL"
    except (outbound.Refused, OSError, ValueError) as exc:
        error = str(exc) or exc.__class__.__name__
    ok = status is not None and 200 <= status < 300
    if ok:
        error = ""
    elif status is not None and not error:
        error = f"HTTP {status}"
    WebhookAttempt.objects.create(
        endpoint=endpoint, event=event, event_id=event_id, attempt=attempt, status_code=status, error=error[:500], ok=ok
    )
    now = timezone.now()
    if ok:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(failing_since=None).update(failing_since=None)
    else:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
        logger.warning(json.dumps({"event": "webhook_failed", "endpoint": endpoint.pk, "error": error[:200]}))
    return ok


def give_up(endpoint_id, first_at, now=None):
    """After a failure: True when the event is no longer retried. Disables an endpoint failing for a day."""
    now = now or timezone.now()
    failing = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True, failing_since__lte=now - RETRY_FOR)
    if failing.update(active=False, disabled_reason="Failed for a day: turned off. Fix it, then tick Active."):
        logger.warning(json.dumps({"event": "webhook_disabled", "endpoint": endpoint_id}))
        notify.endpoint_disabled(endpoint_id)
        return True
    if not WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).exists():
        return True
    return now - datetime.datetime.fromisoformat(first_at) >= RETRY_FOR
