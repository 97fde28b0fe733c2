"""Webhooks: signed POSTs to a loopback receiver (checked as docs/api.md says), refused internal targets,
logged and retried failures, an endpoint disabled after a day, addresses only where allowed."""

import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from newsletter.models import Issue, Subscriber, Subscription, WebhookAttempt, WebhookEndpoint
from newsletter.sending.worker import finish
from newsletter.subscribers.lifecycle import Reason, end_subscriptions
from newsletter.webhooks import delivery
from newsletter.webhooks.tasks import deliver

pytestmark = pytest.mark.django_db


class Receiver(BaseHTTPRequestHandler):
    received = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


def verify(secret, headers, body, tolerance=300):
    """The check docs/api.md gives receivers."""
    timestamp = headers["X-Newsletter-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return (
        hmac.compare_digest(expected, headers["X-Newsletter-Signature"])
        and abs(time.time() - int(timestamp)) < tolerance
    )


def test_a_loopback_receiver_gets_issue_sent_with_a_valid_signature(
    allow_private, receiver, make_issue, newsletter, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["issue.sent"])
    issue = make_issue("Weekly update", status=Issue.Status.SENDING)
    with django_capture_on_commit_callbacks(execute=True):
        finish(issue.pk)
    assert len(Receiver.received) == 1
    headers, body = Receiver.received[0]
    assert verify(endpoint.secret, headers, body)
    assert not verify("whsec_wrong", headers, body)
    payload = json.loads(body)
    assert payload["event"] == "issue.sent" and headers["X-Newsletter-Event"] == "issue.sent"
    assert payload["data"]["issue"]["id"] == issue.pk and payload["data"]["newsletter"]["slug"] == newsletter.slug
    assert payload["data"]["counts"]["sent"] == 0 and "failed" in payload["data"]["counts"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.ok and attempt.status_code == 200 and attempt.event_id == payload["id"]


def test_endpoints_not_wanting_the_event_or_inactive_get_nothing(allow_private, receiver, make_issue, newsletter):
    WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["subscription.ended"])
    WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["issue.sent"], active=False)
    finish(make_issue("x", status=Issue.Status.SENDING).pk)
    assert Receiver.received == [] and not WebhookAttempt.objects.exists()


def test_a_private_target_is_refused_without_the_setting(settings, receiver, newsletter):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["issue.sent"])
    assert not delivery.post(endpoint, "issue.sent", delivery.envelope("issue.sent", {}))
    assert Receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "internal address" in attempt.error
    from newsletter.admin.webhooks import EndpointForm

    form = EndpointForm({"newsletter": newsletter.pk, "url": "http://169.254.169.254/", "events": ["issue.sent"]})
    assert not form.is_valid() and "cannot receive webhooks" in str(form.errors["url"])


def test_a_failing_endpoint_is_logged_retried_with_backoff_and_disabled_after_a_day(
    allow_private, settings, receiver, newsletter
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    Receiver.status = 500
    endpoint = WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["issue.sent"])
    body = delivery.envelope("issue.sent", {"issue": 1})
    first_at = timezone.now().isoformat()
    with mock.patch.object(deliver, "retry", side_effect=Retry("again")) as retry, pytest.raises(Retry):
        deliver(endpoint.pk, "issue.sent", body, first_at)
    assert retry.call_args.kwargs["countdown"] == delivery.BACKOFF_FIRST
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is not None
    assert [a.status_code for a in WebhookAttempt.objects.all()] == [500]
    assert [delivery.backoff(n) for n in (0, 1, 2, 10)] == [30, 60, 120, 3600]

    day_ago = timezone.now() - datetime.timedelta(hours=25)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=day_ago)
    with mock.patch.object(deliver, "retry", side_effect=Retry("again")) as retry:
        assert deliver(endpoint.pk, "issue.sent", body, day_ago.isoformat()) is False
    retry.assert_not_called()
    endpoint.refresh_from_db()
    assert not endpoint.active and "a day" in endpoint.disabled_reason
    assert WebhookAttempt.objects.count() == 2 and len(Receiver.received) == 2
    assert deliver(endpoint.pk, "issue.sent", body, first_at) is False  # disabled: not posted again
    assert len(Receiver.received) == 2


def test_a_success_after_failures_clears_the_failing_mark(allow_private, receiver, newsletter):
    endpoint = WebhookEndpoint.objects.create(
        newsletter=newsletter, url=receiver, events=["issue.sent"], failing_since=timezone.now()
    )
    assert delivery.post(endpoint, "issue.sent", delivery.envelope("issue.sent", {}))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_subscription_ended_carries_the_reason_and_an_address_only_where_allowed(
    allow_private, receiver, newsletter, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver + "?a", events=["subscription.ended"])
    WebhookEndpoint.objects.create(
        newsletter=newsletter, url=receiver + "?b", events=["subscription.ended"], send_addresses=True
    )
    subscriber = Subscriber.objects.create(email="reader@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=Subscription.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        end_subscriptions(subscriber, reason=Reason.READER)
    bodies = sorted((json.loads(body)["data"] for _, body in Receiver.received), key=lambda d: "email" in d)
    assert len(bodies) == 2
    assert bodies[0]["reason"] == "reader" and bodies[0]["status"] == "unsubscribed" and "email" not in bodies[0]
    assert bodies[1]["email"] == "reader@example.org"
    assert "reader@example.org" not in json.dumps(bodies[0])


def test_a_contribution_from_the_form_is_announced_without_its_contact(
    allow_private, receiver, client, newsletter, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["contribution.received"])
    form = {"title": "Seminar", "summary": "On Tuesday", "contact_name": "Ann", "contact_email": "ann@example.org"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/contribute/{newsletter.slug}/", form).status_code == 200
    (_, body), *_ = Receiver.received
    data = json.loads(body)["data"]
    assert data["contribution"]["title"] == "Seminar" and "ann@example.org" not in body and "Ann" not in body


def test_editors_register_an_endpoint_in_the_admin_and_see_its_attempts(allow_private, editor_client, newsletter):
    response = editor_client.post(
        "/admin/newsletter/webhookendpoint/add/",
        {"newsletter": newsletter.pk, "url": "http://127.0.0.1:9/hook", "events": ["issue.sent"], "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["issue.sent"] and endpoint.secret.startswith("whsec_")
    delivery.post(endpoint, "issue.sent", delivery.envelope("issue.sent", {}))  # nothing listens on port 9
    page = editor_client.get(f"/admin/newsletter/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page and "issue.sent" in page
    assert editor_client.get("/admin/newsletter/webhookattempt/").status_code == 200


def test_a_bounce_and_a_confirmation_are_announced(
    allow_private, receiver, make_issue, newsletter, django_capture_on_commit_callbacks
):
    from newsletter.models import Delivery
    from newsletter.subscribers.bounces import record_bounce
    from newsletter.subscribers.lifecycle import confirm

    WebhookEndpoint.objects.create(
        newsletter=newsletter, url=receiver, events=["delivery.bounced", "subscription.confirmed"]
    )
    subscriber = Subscriber.objects.create(email="p@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=newsletter)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(subscriber.pk, [newsletter.pk])
    issue = make_issue("Sent", status=Issue.Status.SENT)
    sent = Delivery.objects.create(issue=issue, subscriber=subscriber, status=Delivery.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        record_bounce(sent, Delivery.Bounce.HARD, "550 no such user")
    events = [json.loads(body) for _, body in Receiver.received]
    assert [e["event"] for e in events] == ["subscription.confirmed", "delivery.bounced"]
    assert "email" not in events[0]["data"]  # the endpoint may not receive addresses
    assert events[1]["data"]["kind"] == "hard" and events[1]["data"]["delivery"] == sent.pk
    assert "p@example.org" not in json.dumps(events)


class Redirecting(BaseHTTPRequestHandler):
    hits = []

    def do_POST(self):
        Redirecting.hits.append(("POST", self.path))
        self.send_response(301)
        self.send_header("Location", "/moved")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        Redirecting.hits.append(("GET", self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_not_followed_and_the_attempt_says_where_to(allow_private, newsletter):
    # urllib follows a 301 for a POST as a GET without the body: the receiver would see an empty,
    # unsigned request. The attempt fails instead, naming the new URL.
    Redirecting.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        endpoint = WebhookEndpoint.objects.create(newsletter=newsletter, url=url, events=["issue.sent"])
        assert not delivery.post(endpoint, "issue.sent", delivery.envelope("issue.sent", {}))
    finally:
        server.shutdown()
        server.server_close()
    assert Redirecting.hits == [("POST", "/hook")]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 301 and not attempt.ok
    assert "redirected to /moved" in attempt.error and "register that URL" in attempt.error


def test_the_editor_who_registered_an_endpoint_is_told_when_it_is_turned_off(
    allow_private, settings, receiver, newsletter, editor_client, mailoutbox
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    Receiver.status = 503
    response = editor_client.post(
        "/admin/newsletter/webhookendpoint/add/",
        {"newsletter": newsletter.pk, "url": receiver, "events": ["issue.sent"], "active": "on"},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    owner = endpoint.created_by
    assert owner is not None and owner.username == "ed"
    owner.email = "ed@council.example"
    owner.save()
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=day_ago)
    body = delivery.envelope("issue.sent", {"issue": 1})
    assert deliver(endpoint.pk, "issue.sent", body, day_ago.isoformat()) is False
    (mail,) = mailoutbox
    assert mail.to == ["ed@council.example"] and "turned off" in mail.subject
    assert receiver in mail.body and "HTTP 503" in mail.body
    assert f"/admin/newsletter/webhookendpoint/{endpoint.pk}/change/" in mail.body
    # Failing again later tells nobody twice: the endpoint is already off.
    assert deliver(endpoint.pk, "issue.sent", body, day_ago.isoformat()) is False
    assert len(mailoutbox) == 1


def test_an_endpoint_with_no_owner_tells_the_managers(allow_private, settings, receiver, newsletter, mailoutbox):
    settings.MANAGERS = [("Ops", "ops@council.example")]
    Receiver.status = 500
    endpoint = WebhookEndpoint.objects.create(newsletter=newsletter, url=receiver, events=["issue.sent"])
    day_ago = timezone.now() - datetime.timedelta(hours=25)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=day_ago)
    assert delivery.post(endpoint, "issue.sent", delivery.envelope("issue.sent", {})) is False
    assert delivery.give_up(endpoint.pk, day_ago.isoformat())
    assert [m.to for m in mailoutbox] == [["ops@council.example"]]
