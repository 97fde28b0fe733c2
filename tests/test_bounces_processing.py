"""Bounces, complaints and mailed unsubscribes, read from a Maildir or a provider's webhook."""

import datetime
import mailbox
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from newsletter.mail import addresses as mail_addresses
from newsletter.models import Delivery, Issue, Subscriber, Subscription, Suppression
from newsletter.subscribers import bounces
from newsletter.tokens import unsubscribe_token


@pytest.fixture
def sent(newsletter, make_issue):
    """Three subscribers, each with a sent delivery of one issue."""
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.save()
    issue = make_issue("Sent one", status=Issue.Status.SENT)
    rows = []
    for n in range(3):
        person = Subscriber.objects.create(email=f"p{n}@example.com")
        Subscription.objects.create(subscriber=person, newsletter=newsletter, status="active")
        rows.append(
            Delivery.objects.create(
                issue=issue, subscriber=person, status="sent", message_id=f"<issue{issue.pk}.d{n}@x>"
            )
        )
    return SimpleNamespace(issue=issue, newsletter=newsletter, deliveries=rows)


def dsn(to, status, action="failed"):
    return (
        f"From: MAILER-DAEMON@mx.example.com\nTo: {to}\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
        f"Final-Recipient: rfc822; someone@example.com\nAction: {action}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {status} mailbox problem\n\n--B--\n"
    )


def arf(to, message_id):
    return (
        f"From: fbl@isp.example\nTo: {to}\nSubject: complaint\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        "--F\nContent-Type: text/plain\n\nA complaint.\n\n"
        "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n\n"
        f"--F\nContent-Type: text/rfc822-headers\n\nMessage-ID: {message_id}\nSubject: hi\n\n--F--\n"
    )


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "bounces", create=True)

    def deliver(*messages):
        for text in messages:
            box.add(text)
        return str(tmp_path / "bounces")

    return deliver


def verp(row, sent):
    return mail_addresses.verp_address(row.pk, sent.newsletter)


def test_a_verp_address_names_its_delivery_and_cannot_be_forged(sent):
    address = verp(sent.deliveries[0], sent)
    assert address.startswith("bounces+") and address.endswith("@ssrg.example.org")
    assert mail_addresses.parse_verp(address) == sent.deliveries[0].pk
    forged = address.replace(f"+{sent.deliveries[0].pk}.", f"+{sent.deliveries[1].pk}.")
    assert mail_addresses.parse_verp(forged) is None


def test_one_hard_bounce_marks_the_subscriber_bounced(sent, maildir, capsys):
    row = sent.deliveries[0]
    path = maildir(dsn(verp(row, sent), "5.1.1"))

    call_command("process_bounces", maildir=path)

    row.refresh_from_db()
    assert row.bounce == Delivery.Bounce.HARD and row.bounced_at
    assert Subscription.objects.get(subscriber=row.subscriber).status == Subscription.Status.BOUNCED
    assert Suppression.is_suppressed(row.subscriber.email)
    assert "1 hard bounce(s)" in capsys.readouterr().out


def test_processing_the_mailbox_twice_acts_once(sent, maildir):
    path = maildir(dsn(verp(sent.deliveries[0], sent), "4.2.2", action="delayed"))
    bounces.process_bounces(maildir=path)
    report = bounces.process_bounces(maildir=path)
    assert report.soft == 0 and Delivery.objects.filter(bounce="soft").count() == 1


def test_three_soft_bounces_within_thirty_days_mark_the_subscriber_bounced(sent, make_issue):
    person = sent.deliveries[0].subscriber
    older = []
    for n in range(2):
        issue = make_issue(f"Earlier {n}", status=Issue.Status.SENT)
        older.append(Delivery.objects.create(issue=issue, subscriber=person, status="sent"))
    long_ago = timezone.now() - datetime.timedelta(days=40)

    bounces.record_bounce(older[0], Delivery.Bounce.SOFT, now=long_ago)
    bounces.record_bounce(older[1], Delivery.Bounce.SOFT)
    assert bounces.record_bounce(sent.deliveries[0], Delivery.Bounce.SOFT) == ""  # only two within 30 days
    assert Subscription.objects.get(subscriber=person).status == Subscription.Status.ACTIVE

    Delivery.objects.filter(pk=older[0].pk).update(bounced_at=timezone.now() - datetime.timedelta(days=3))
    assert bounces.record_bounce(sent.deliveries[0], Delivery.Bounce.SOFT) == "bounced"
    assert Subscription.objects.get(subscriber=person).status == Subscription.Status.BOUNCED


def test_a_complaint_unsubscribes_and_is_recorded_on_the_delivery(sent, maildir):
    row = sent.deliveries[1]
    path = maildir(arf("fbl@ssrg.example.org", row.message_id))

    report = bounces.process_bounces(maildir=path)

    row.refresh_from_db()
    assert report.complaints == 1 and row.bounce == Delivery.Bounce.COMPLAINT
    assert Subscription.objects.get(subscriber=row.subscriber).status == Subscription.Status.UNSUBSCRIBED


def test_mail_to_the_list_unsubscribe_address_unsubscribes_its_sender(sent, maildir):
    person = sent.deliveries[2].subscriber
    token = unsubscribe_token(person.pk, sent.newsletter.pk)
    path = maildir(
        f"From: {person.email}\nTo: unsubscribe@ssrg.example.org\nSubject: unsubscribe {token}\n\nplease\n",
        "From: stranger@example.com\nTo: unsubscribe@ssrg.example.org\nSubject: unsubscribe\n\n",
    )

    report = bounces.process_bounces(maildir=path)

    assert report.unsubscribes == 1 and report.ignored == 1
    assert Subscription.objects.get(subscriber=person).status == Subscription.Status.UNSUBSCRIBED
    assert Subscription.objects.filter(status="active").count() == 2


def test_mail_that_is_not_a_bounce_is_left_alone(sent, maildir):
    path = maildir("From: a@b.c\nTo: bounces@ssrg.example.org\nSubject: hi\n\nhello\n")
    report = bounces.process_bounces(maildir=path)
    assert report.ignored == 1 and not Delivery.objects.exclude(bounce="").exists()


def test_provider_webhook_events_follow_the_same_rules(sent):
    from anymail.signals import AnymailTrackingEvent, tracking

    row = sent.deliveries[0]
    event = AnymailTrackingEvent(event_type="bounced", message_id=row.message_id, recipient=row.subscriber.email)
    tracking.send(sender=object, event=event, esp_name="Postmark")
    complaint = AnymailTrackingEvent(event_type="complained", recipient=sent.deliveries[1].subscriber.email)
    tracking.send(sender=object, event=complaint, esp_name="Postmark")

    row.refresh_from_db()
    assert row.bounce == Delivery.Bounce.HARD
    assert Subscription.objects.get(subscriber=row.subscriber).status == Subscription.Status.BOUNCED
    assert Subscription.objects.get(subscriber=sent.deliveries[1].subscriber).status == "unsubscribed"
