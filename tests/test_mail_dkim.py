"""In-app DKIM signs every outgoing mail, not only issues: checked with dkimpy against the bytes each backend sends.

A throwaway RSA key is made with openssl (as bench_send --dkim does); dkim.verify is given a DNS
function that answers with its public key, so nothing touches the network.
"""

import base64
import shutil
import subprocess

import dkim
import pytest
from django.utils import timezone

from newsletter.mail import transactional
from newsletter.mail.message import IssueEmail
from newsletter.mail.outbox import OutboxBackend
from newsletter.models import Subscriber, Subscription
from newsletter.rendering import render_issue
from tests.delivery_helpers import RecordingHandler, start_smtp_server
from tests.services import require_service

SELECTOR, DOMAIN = "mail2024", "ssrg.example.org"


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory):
    """(private key file, DNS TXT record) of a fresh 1024-bit RSA key."""
    require_service(shutil.which("openssl"), "needs the openssl command to make a test key")
    key = tmp_path_factory.mktemp("dkim") / "test.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def signing(settings, dkim_key):
    settings.DKIM_PRIVATE_KEY_FILE, settings.DKIM_SELECTOR, settings.DKIM_DOMAIN = str(dkim_key[0]), SELECTOR, DOMAIN
    record = dkim_key[1]

    def verify(raw):
        def dns(name, timeout=5):
            assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
            return record

        return raw.startswith(b"DKIM-Signature:") or b"\r\nDKIM-Signature:" in raw, dkim.verify(raw, dnsfunc=dns)

    return verify


@pytest.fixture
def sender(newsletter):
    newsletter.sender_name, newsletter.sender_email = "SSRG", "news@ssrg.example.org"
    newsletter.welcome_message = "Thanks for joining — “us”."
    newsletter.save()
    return newsletter


@pytest.fixture
def pending(sender):
    person = Subscriber.objects.create(email="ann@example.org", name="Ann Ödegård")
    subscription = Subscription.objects.create(subscriber=person, newsletter=sender, status="pending")
    return person, subscription


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "newsletter.mail.outbox.OutboxBackend"
    settings.OUTBOX_DIR = tmp_path / "outbox"

    def written():
        return [path.read_bytes() for path in sorted(settings.OUTBOX_DIR.glob("*.eml"))]

    return written


@pytest.fixture
def smtp(settings):
    handler = RecordingHandler()
    controller = start_smtp_server(handler)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "", False, False
    yield handler
    controller.stop()


def test_confirmation_and_welcome_mail_are_signed_in_the_outbox(signing, pending, outbox):
    person, subscription = pending
    transactional.confirmation_message(person, [subscription]).send()
    subscription.status, subscription.confirmed_at = "active", timezone.now()
    subscription.save()
    transactional.welcome_message(subscription).send()

    written = outbox()
    assert len(written) == 2
    assert [signing(raw) for raw in written] == [(True, True), (True, True)]


def test_confirmation_mail_is_signed_as_the_smtp_server_receives_it(signing, pending, smtp):
    person, subscription = pending
    transactional.confirmation_message(person, [subscription], name="Ann").send()

    [(_, _, raw)] = smtp.messages
    assert signing(raw) == (True, True)
    assert b"\r\nDKIM-Signature: v=1; a=rsa-sha256;" in raw and b" d=ssrg.example.org;" in raw


def test_a_signature_breaks_when_the_message_is_changed(signing, pending, outbox):
    person, subscription = pending
    transactional.confirmation_message(person, [subscription]).send()
    [raw] = outbox()

    assert signing(raw.replace(b"Please confirm", b"Please confirn")) == (True, False)


def test_issue_mail_is_signed_both_as_raw_smtp_bytes_and_through_a_django_backend(
    signing, rich_issue, sender, tmp_path
):
    rendered = render_issue(rich_issue)
    email = IssueEmail(rich_issue, subject=rendered.subject, html=rendered.html, text=rendered.text)
    message = email.build(delivery_id=7, subscriber_id=1, address="ann@example.org", name="Ann Ödegård")
    assert signing(message.raw) == (True, True)

    OutboxBackend(outbox_dir=tmp_path).send_messages([message.as_django_message()])
    [path] = tmp_path.glob("*.eml")
    assert signing(path.read_bytes()) == (True, True)


def test_without_a_key_nothing_is_signed(settings, pending, outbox):
    settings.DKIM_PRIVATE_KEY_FILE = ""
    person, subscription = pending
    transactional.confirmation_message(person, [subscription]).send()

    [raw] = outbox()
    assert b"DKIM-Signature" not in raw
