"""The same flow once through a real SMTP server on loopback (aiosmtpd, started by the test)."""

import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from newsletter.models import Subscription

pytestmark = pytest.mark.usefixtures("fresh_cache")


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=10,
        ):
            yield inbox
    finally:
        controller.stop()


def links(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    return [url.removeprefix(settings.SITE_URL) for url in re.findall(r"https?://\S+", text)]


def test_confirm_preferences_and_one_click_work_through_real_smtp(
    client, newsletter, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("subscriptions:subscribe"), {"email": "ann@example.org", "newsletters": "weekly-update"})

    [(recipients, confirmation)] = smtp_server.messages
    assert recipients == ["ann@example.org"]
    assert confirmation["Subject"] == "Please confirm: SSRG Weekly Update"
    assert confirmation.get_body(preferencelist=("html",)) is not None
    confirm_path = next(link for link in links(confirmation) if "/confirm/" in link)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(confirm_path).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE

    welcome = smtp_server.messages[1][1]
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    welcome_links = links(welcome)
    preferences = client.get(next(link for link in welcome_links if "/preferences/" in link))
    assert preferences.status_code == 200 and "ann@example.org" in preferences.text

    unsubscribe_url = re.search(r"<(https?://[^>]+)>", str(welcome["List-Unsubscribe"]).replace("\n", "")).group(1)
    unsubscribe_path = unsubscribe_url.replace(" ", "").removeprefix(settings.SITE_URL)
    response = client.post(
        unsubscribe_path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED
