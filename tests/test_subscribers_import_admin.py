"""The admin's import of another tool's export, and its mapping step for any other CSV (test client; the same
steps in Chromium: tests/test_browser_subscriber_import.py)."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from newsletter.models import Subscriber, Subscription, Suppression

pytestmark = pytest.mark.usefixtures("fresh_cache")

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
URL = "admin:newsletter_subscriber_import"


def upload(client, path, **data):
    file = SimpleUploadedFile(path.name, path.read_bytes(), "text/csv")
    return client.post(reverse(URL), {"file": file, **data})


def token_of(response):
    return re.search(r'name="upload" value="([^"]+)"', response.text)[1]


def test_an_unknown_csv_gets_a_mapping_step_with_a_guessed_preview_and_imports_nothing_yet(editor_client, newsletter):
    response = upload(editor_client, EXPORTS / "other_tool.csv")

    assert "choose which column is which" in response.text
    assert "missing: email, name, newsletters, consent" in response.text
    assert '<option value="E-mail" selected>' in response.text  # guessed from the name
    assert "nia@example.org" in response.text and "Nia North" in response.text  # the preview
    assert "unknown status “maybe” in “State”" in response.text
    assert not Subscriber.objects.exists() and not Suppression.objects.exists()


def test_the_mapping_step_imports_with_the_chosen_columns(editor_client, newsletter):
    token = token_of(upload(editor_client, EXPORTS / "other_tool.csv"))
    choices = {"upload": token, "email": "E-mail", "name": "Full name", "consent_date": "Joined on"}
    choices |= {"status": "State", "source": "OldTool", "newsletters": [newsletter.pk]}

    preview = editor_client.post(reverse(URL), {**choices, "action": "preview"})
    assert "pat@example.org" in preview.text and not Subscriber.objects.exists()
    done = editor_client.post(reverse(URL), {**choices, "action": "import"})

    assert "1 subscriptions activated" in done.text and "rows rejected" in done.text
    nia = Subscription.objects.get(subscriber__email="nia@example.org")
    assert nia.status == Subscription.Status.ACTIVE and nia.consent_text.startswith("Imported from OldTool by ")
    assert Suppression.is_suppressed("oli@example.org") and Suppression.is_suppressed("pat@example.org")
    again = editor_client.post(reverse(URL), {**choices, "action": "import"})  # the upload is gone once imported
    assert "has expired or is not yours" in again.text


def test_a_mailchimp_file_is_recognised_and_only_needs_its_newsletters(editor_client, newsletter):
    response = upload(editor_client, EXPORTS / "mailchimp" / "unsubscribed_members_export_5f3a9c1d2e.csv")
    assert "Recognised: <strong>a Mailchimp audience export (unsubscribed members)</strong>" in response.text
    token = token_of(response)

    missing = editor_client.post(reverse(URL), {"upload": token, "action": "import"})
    assert "This field is required" in missing.text and not Suppression.objects.exists()
    done = editor_client.post(reverse(URL), {"upload": token, "newsletters": [newsletter.pk], "action": "import"})

    assert "2 addresses that left the old tool are on the suppression list" in done.text
    assert Suppression.is_suppressed("dan.left@example.org") and not Subscriber.objects.exists()


def test_an_upload_token_is_the_editors_own_and_cannot_be_forged(editor_client, client, newsletter, django_user_model):
    token = token_of(upload(editor_client, EXPORTS / "other_tool.csv"))
    other = django_user_model.objects.create_superuser("other", "other@example.org", "x")
    client.force_login(other)
    data = {"email": "E-mail", "newsletters": [newsletter.pk], "source": "x", "action": "import"}

    assert "not yours" in client.post(reverse(URL), {"upload": token, **data}).text
    assert "not yours" in editor_client.post(reverse(URL), {"upload": token + "x", **data}).text
    assert not Subscriber.objects.exists()


def test_an_oversize_upload_is_refused_with_the_limit(editor_client, newsletter, settings):
    settings.SUBSCRIBER_IMPORT_MAX_BYTES = 100

    response = upload(editor_client, EXPORTS / "other_tool.csv")

    assert "The file is too large (" in response.text and "the limit is 100" in response.text


def test_a_binary_upload_is_refused_as_not_csv(editor_client, newsletter):
    file = SimpleUploadedFile("list.xlsx", b"PK\x03\x04\x00\x00binary", "application/octet-stream")

    response = editor_client.post(reverse(URL), {"file": file})

    assert "This is a binary file, not CSV text" in response.text and not Subscriber.objects.exists()
