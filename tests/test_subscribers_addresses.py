"""Issue 10: an address is normalised once, at the boundary, by newsletter.addresses.

Whatever door an address comes in by (the subscribe form, the JSON endpoint, a CSV import, the
admin's add form, a bounce, a mailed unsubscribe, the provider's webhook), "User@Bücher.example"
is the stored "user@xn--bcher-kva.example".
"""

import io
import mailbox
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import newsletter as newsletter_package
from newsletter.addresses import canonical_address, normalise_address
from newsletter.mail.addresses import bounce_address, parse_verp, unsubscribe_address, verp_address
from newsletter.models import Delivery, Issue, Subscriber, Subscription, Suppression
from newsletter.subscribers import bounces
from newsletter.subscribers.csvio import import_csv

pytestmark = pytest.mark.usefixtures("fresh_cache")

STORED = "user@xn--bcher-kva.example"
TYPED = "User@Bücher.example"


@pytest.fixture
def editor(client):
    from newsletter.management.commands.create_editor import editors_group

    user = get_user_model().objects.create(username="ed", is_staff=True)
    user.groups.add(editors_group())
    client.force_login(user)
    return client


def test_the_one_rule():
    assert canonical_address(f"  {TYPED} ") == normalise_address(f"  {TYPED} ") == STORED
    assert canonical_address(STORED.upper()) == STORED
    assert canonical_address("not an address") == "not an address"  # never raises: it then matches nothing


# Doors that store an address --------------------------------------------------------------------


def by_form(client, newsletter):
    client.post(reverse("subscriptions:subscribe"), {"email": TYPED, "newsletters": [newsletter.slug]})


def by_json(client, newsletter):
    data = {"email": TYPED, "newsletters": [newsletter.slug], "website": ""}
    client.post(reverse("subscriptions:subscribe_api"), data, content_type="application/json")


def by_csv(client, newsletter):
    import_csv(io.BytesIO(f"email,name,newsletters,consent\n{TYPED},,{newsletter.slug},yes\n".encode()))


def by_csv_upload(editor, newsletter):
    data = f"email,name,newsletters,consent\n{TYPED},,{newsletter.slug},no\n".encode()
    editor.post(reverse("admin:newsletter_subscriber_import"), {"file": SimpleUploadedFile("s.csv", data, "text/csv")})


def by_admin_add(editor, newsletter):
    data = {"email": TYPED, "name": "", "newsletters": [newsletter.pk], "consent_given": "on"}
    editor.post(reverse("admin:newsletter_subscriber_add"), data)


@pytest.mark.parametrize("door", [by_form, by_json, by_csv, by_csv_upload, by_admin_add])
def test_every_door_stores_the_normalised_address(editor, newsletter, door):
    door(editor, newsletter)
    door(editor, newsletter)  # the same person again: one subscriber

    assert list(Subscriber.objects.values_list("email", flat=True)) == [STORED]
    assert Subscription.objects.count() == 1


def test_the_admin_finds_an_address_however_it_is_typed(editor, newsletter):
    Subscriber.objects.create(email=STORED)

    response = editor.get(reverse("admin:newsletter_subscriber_changelist"), {"q": "USER@bücher.example"})

    assert [s.email for s in response.context["cl"].result_list] == [STORED]


# Doors that match an address from outside ------------------------------------------------------------


@pytest.fixture
def sent(newsletter, make_issue):
    """The stored user@xn--bcher-kva.example, active, with one sent delivery."""
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.save()
    person = Subscriber.objects.create(email=STORED)
    Subscription.objects.create(subscriber=person, newsletter=newsletter, status=Subscription.Status.ACTIVE)
    issue = make_issue("Sent one", status=Issue.Status.SENT)
    return Delivery.objects.create(issue=issue, subscriber=person, status="sent", message_id="<d1@ssrg.example.org>")


def process(tmp_path, raw):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(raw.encode())
    return bounces.process_bounces(maildir=str(tmp_path / "inbox"))


def dsn(to, recipient):
    return (
        f"From: MAILER-DAEMON@mx.bücher.example\nTo: {to}\nSubject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nNo such user.\n\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.bücher.example\n\n"
        f"Original-Recipient: utf-8; {recipient}\nFinal-Recipient: rfc822; {recipient}\n"
        "Action: failed\nStatus: 5.1.1\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: <d1@ssrg.example.org>\nSubject: hi\n\n--B--\n"
    )


def assert_bounced():
    assert Subscription.objects.get().status == Subscription.Status.BOUNCED
    assert Suppression.is_suppressed(TYPED) and Suppression.is_suppressed(STORED)
    assert Suppression.objects.get().reason == Suppression.Reason.BOUNCED


def test_a_dsn_to_the_verp_address_for_the_unicode_domain_bounces_the_stored_subscriber(sent, tmp_path):
    report = process(tmp_path, dsn(verp_address(sent.pk, sent.issue.newsletter), TYPED))

    assert report.hard == 1 and report.subscribers_bounced == 1
    sent.refresh_from_db()
    assert sent.bounce == Delivery.Bounce.HARD
    assert_bounced()


def test_a_dsn_to_the_plain_bounce_address_finds_the_delivery_by_the_returned_original(sent, tmp_path):
    report = process(tmp_path, dsn("bounces@ssrg.example.org", TYPED))

    assert report.hard == 1
    assert_bounced()


def test_a_unicode_sender_domain_gives_ascii_envelope_addresses_and_either_spelling_comes_back(
    sent, tmp_path, newsletter
):
    newsletter.sender_email = "News@Bücher.example"
    newsletter.save()

    verp = verp_address(sent.pk, newsletter)
    assert verp.isascii() and verp.endswith("@xn--bcher-kva.example")
    assert bounce_address(newsletter) == "bounces@xn--bcher-kva.example"
    assert unsubscribe_address(newsletter) == "unsubscribe@xn--bcher-kva.example"
    unicode_spelling = verp.replace("xn--bcher-kva", "Bücher")
    assert parse_verp(unicode_spelling) == sent.pk

    process(tmp_path, dsn(unicode_spelling, TYPED))
    assert_bounced()


@pytest.mark.parametrize("sender", [TYPED, f"User <{TYPED}>", STORED.upper()])
def test_a_mailed_unsubscribe_from_the_unicode_spelling_matches_the_stored_address(sent, tmp_path, sender):
    report = process(tmp_path, f"From: {sender}\nTo: Unsubscribe@Bücher.example\nSubject: unsubscribe\n\nplease\n")

    assert report.unsubscribes == 1
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED
    assert Suppression.is_suppressed(STORED)


def test_the_providers_webhook_matches_the_unicode_spelling(sent, newsletter, make_issue):
    from anymail.signals import AnymailTrackingEvent, tracking

    tracking.send(sender=object, event=AnymailTrackingEvent(event_type="bounced", recipient=TYPED), esp_name="X")
    sent.refresh_from_db()
    assert sent.bounce == Delivery.Bounce.HARD
    assert_bounced()


def test_the_providers_unsubscribe_matches_the_unicode_spelling(sent):
    from anymail.signals import AnymailTrackingEvent, tracking

    tracking.send(sender=object, event=AnymailTrackingEvent(event_type="unsubscribed", recipient=TYPED), esp_name="X")

    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED


def test_nothing_but_the_normaliser_converts_a_domain_to_ascii():
    root = Path(newsletter_package.__file__).parent
    converters = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if 'encode("idna")' in path.read_text() or "encode('idna')" in path.read_text()
    }
    assert converters == {"addresses.py"}
