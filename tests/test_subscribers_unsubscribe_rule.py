"""Issue 10: one rule ends subscriptions, whichever door a person (or their mailbox) leaves by.

Every door is driven the way it is used: the preferences page and the one-click POST through the
test client, mailed unsubscribes, bounces and complaints through a Maildir and `process_bounces`,
the provider's webhook through anymail's tracking signal, the editor through the admin action.
For the same situation every door must leave the same statuses and the same suppression; what
the reason changes (bounced or unsubscribed, the Suppression.Reason) is asserted per reason.
"""

import mailbox
from types import SimpleNamespace

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from newsletter import tokens
from newsletter.addresses import email_hash
from newsletter.models import Delivery, Issue, Subscriber, Subscription, Suppression
from newsletter.subscribers import bounces
from newsletter.subscribers.lifecycle import RULES, Reason, end_subscriptions

pytestmark = pytest.mark.usefixtures("fresh_cache")

ACTIVE, PENDING = Subscription.Status.ACTIVE, Subscription.Status.PENDING
UNSUBSCRIBED, BOUNCED = Subscription.Status.UNSUBSCRIBED, Subscription.Status.BOUNCED
ADDRESS = "ann@example.org"


@pytest.fixture
def lists(make_newsletter, newsletter):
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.save()
    return SimpleNamespace(weekly=newsletter, events=make_newsletter("Events"), jobs=make_newsletter("Jobs"))


@pytest.fixture
def ann(lists, make_issue):
    """Active in Weekly and Events, pending in Jobs; one sent delivery of a Weekly issue (for bounces)."""
    person = Subscriber.objects.create(email=ADDRESS, name="Ann")
    for newsletter, status in [(lists.weekly, ACTIVE), (lists.events, ACTIVE), (lists.jobs, PENDING)]:
        Subscription.objects.create(subscriber=person, newsletter=newsletter, status=status)
    issue = make_issue("Sent one", status=Issue.Status.SENT, newsletter=lists.weekly)
    Delivery.objects.create(issue=issue, subscriber=person, status="sent", message_id="<issue.ann@x>")
    return person


def state():
    """What a door leaves: each newsletter's status, whether unsubscribed_at is set, and the suppression reason."""
    statuses = {
        s.newsletter.slug: (s.status, s.unsubscribed_at is not None)
        for s in Subscription.objects.select_related("newsletter").filter(subscriber__email=ADDRESS)
    }
    assert Suppression.objects.exclude(email_hash=email_hash(ADDRESS)).count() == 0
    return statuses, Suppression.objects.values_list("reason", flat=True).first() or ""


# Doors -------------------------------------------------------------------------------------


def _path(url):
    return url.removeprefix("http://127.0.0.1:8000")


def _maildir(tmp_path, raw):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(raw.encode() if isinstance(raw, str) else raw)
    return bounces.process_bounces(maildir=str(tmp_path / "inbox"))


def _editor(ctx):
    from django.contrib.auth import get_user_model

    from newsletter.management.commands.create_editor import editors_group

    user, _ = get_user_model().objects.get_or_create(username="ed", defaults={"is_staff": True})
    user.groups.add(editors_group())
    client = Client()
    client.force_login(user)
    return client


def reader_untick(ctx, newsletter):
    keep = [n.slug for n in (ctx.lists.weekly, ctx.lists.events, ctx.lists.jobs) if n != newsletter]
    ctx.client.post(_path(tokens.preferences_url(ctx.ann.pk)), {"name": "Ann", "newsletters": keep})


def one_click(ctx, newsletter):
    ctx.client.post(_path(tokens.unsubscribe_url(ctx.ann.pk, newsletter.pk)), {"List-Unsubscribe": "One-Click"})


def mailed_with_token(ctx, newsletter):
    token = tokens.unsubscribe_token(ctx.ann.pk, newsletter.pk)
    _maildir(ctx.tmp_path, f"From: Ann <{ADDRESS}>\nTo: unsubscribe@ssrg.example.org\nSubject: unsubscribe {token}\n\n")


def editor_filtered(ctx, newsletter):
    url = reverse("admin:newsletter_subscriber_changelist") + f"?newsletter={newsletter.pk}"
    _editor(ctx).post(url, {"action": "unsubscribe", ACTION_CHECKBOX_NAME: [ctx.ann.pk]})


def reader_all(ctx):
    ctx.client.post(_path(tokens.preferences_url(ctx.ann.pk)), {"action": "unsubscribe_all"})


def mailed_without_token(ctx):
    _maildir(ctx.tmp_path, f"From: {ADDRESS}\nTo: unsubscribe@ssrg.example.org\nSubject: unsubscribe\n\nplease\n")


def provider(ctx):
    from anymail.signals import AnymailTrackingEvent, tracking

    tracking.send(sender=object, event=AnymailTrackingEvent(event_type="unsubscribed", recipient=ADDRESS), esp_name="X")


def editor_all(ctx):
    url = reverse("admin:newsletter_subscriber_changelist")
    _editor(ctx).post(url, {"action": "unsubscribe", ACTION_CHECKBOX_NAME: [ctx.ann.pk]})


def hard_bounce(ctx):
    from newsletter.mail.addresses import verp_address

    delivery = Delivery.objects.get()
    _maildir(
        ctx.tmp_path,
        f"From: MAILER-DAEMON@mx.example.com\nTo: {verp_address(delivery.pk, ctx.lists.weekly)}\n"
        "Subject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nNo.\n\n--B\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; {ADDRESS}\nAction: failed\n"
        "Status: 5.1.1\n\n--B--\n",
    )


def _another_delivery(ctx, n):
    issue = ctx.make_issue(f"Earlier {n}", status=Issue.Status.SENT, newsletter=ctx.lists.weekly)
    return Delivery.objects.create(issue=issue, subscriber=ctx.ann, status="sent")


def three_soft_bounces(ctx):
    for delivery in [Delivery.objects.get(), _another_delivery(ctx, 1), _another_delivery(ctx, 2)]:
        bounces.record_bounce(delivery, Delivery.Bounce.SOFT)


def provider_bounce(ctx):
    from anymail.signals import AnymailTrackingEvent, tracking

    event = AnymailTrackingEvent(event_type="bounced", message_id="<issue.ann@x>", recipient=ADDRESS)
    tracking.send(sender=object, event=event, esp_name="X")


def complaint(ctx):
    _maildir(
        ctx.tmp_path,
        "From: fbl@isp.example\nTo: fbl@ssrg.example.org\nSubject: complaint\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        "--F\nContent-Type: text/plain\n\nA complaint.\n\n"
        "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n\n"
        "--F\nContent-Type: text/rfc822-headers\n\nMessage-ID: <issue.ann@x>\nSubject: hi\n\n--F--\n",
    )


def provider_complaint(ctx):
    from anymail.signals import AnymailTrackingEvent, tracking

    tracking.send(sender=object, event=AnymailTrackingEvent(event_type="complained", recipient=ADDRESS), esp_name="X")


def reader_erase(ctx):
    ctx.client.post(_path(tokens.preferences_url(ctx.ann.pk)), {"action": "erase", "confirm_erase": "yes"})


def editor_erase(ctx):
    url = reverse("admin:newsletter_subscriber_changelist")
    _editor(ctx).post(url, {"action": "erase", "confirm_erase": "yes", ACTION_CHECKBOX_NAME: [ctx.ann.pk]})


ONE_NEWSLETTER_DOORS = [reader_untick, one_click, mailed_with_token, editor_filtered]
EVERY_NEWSLETTER_DOORS = [reader_all, mailed_without_token, provider, editor_all]


@pytest.fixture
def ctx(client, lists, ann, tmp_path, make_issue):
    return SimpleNamespace(client=client, lists=lists, ann=ann, tmp_path=tmp_path, make_issue=make_issue)


# Leaving -------------------------------------------------------------------------------------


@pytest.mark.parametrize("door", ONE_NEWSLETTER_DOORS)
def test_leaving_one_newsletter_while_another_stays_active_suppresses_nothing(ctx, door):
    door(ctx, ctx.lists.events)

    # Suppression is per address and the sending worker skips a suppressed address for every
    # newsletter: leaving Events must not stop Weekly.
    assert state() == (
        {"weekly-update": (ACTIVE, False), "events": (UNSUBSCRIBED, True), "jobs": (PENDING, False)},
        "",
    )


@pytest.mark.parametrize("door", ONE_NEWSLETTER_DOORS)
def test_leaving_the_last_active_newsletter_suppresses_the_address(ctx, door):
    Subscription.objects.filter(newsletter=ctx.lists.events).update(status=UNSUBSCRIBED)

    door(ctx, ctx.lists.weekly)

    statuses, reason = state()
    assert statuses["weekly-update"] == (UNSUBSCRIBED, True)
    assert statuses["jobs"] == (PENDING, False)  # only the newsletter named ends
    assert reason == Suppression.Reason.UNSUBSCRIBED


@pytest.mark.parametrize("door", EVERY_NEWSLETTER_DOORS)
def test_leaving_everything_ends_active_and_pending_alike_and_suppresses(ctx, door):
    door(ctx)

    assert state() == (
        {"weekly-update": (UNSUBSCRIBED, True), "events": (UNSUBSCRIBED, True), "jobs": (UNSUBSCRIBED, True)},
        Suppression.Reason.UNSUBSCRIBED,
    )


@pytest.mark.parametrize("door", EVERY_NEWSLETTER_DOORS)
def test_every_door_is_idempotent(ctx, door):
    door(ctx)
    first = dict(Subscription.objects.values_list("newsletter__slug", "unsubscribed_at"))
    door(ctx)

    assert dict(Subscription.objects.values_list("newsletter__slug", "unsubscribed_at")) == first
    assert Suppression.objects.count() == 1


# Reasons about the address itself --------------------------------------------------------------


@pytest.mark.parametrize(
    "door, status, reason",
    [
        (hard_bounce, BOUNCED, Suppression.Reason.BOUNCED),
        (three_soft_bounces, BOUNCED, Suppression.Reason.BOUNCED),
        (provider_bounce, BOUNCED, Suppression.Reason.BOUNCED),
        (complaint, UNSUBSCRIBED, Suppression.Reason.COMPLAINED),
        (provider_complaint, UNSUBSCRIBED, Suppression.Reason.COMPLAINED),
    ],
)
def test_bounces_and_complaints_end_everything_with_their_own_status_and_reason(ctx, door, status, reason):
    Subscription.objects.filter(newsletter=ctx.lists.events).update(status=UNSUBSCRIBED)  # left earlier

    door(ctx)

    statuses, suppressed = state()
    assert statuses == {"weekly-update": (status, True), "events": (UNSUBSCRIBED, False), "jobs": (status, True)}
    assert suppressed == reason


def test_two_soft_bounces_are_not_yet_a_bounce(ctx):
    bounces.record_bounce(Delivery.objects.get(), Delivery.Bounce.SOFT)
    bounces.record_bounce(_another_delivery(ctx, 1), Delivery.Bounce.SOFT)

    assert state()[1] == "" and Subscription.objects.filter(status=ACTIVE).count() == 2


@pytest.mark.parametrize("door", [reader_erase, editor_erase])
def test_erasure_deletes_the_person_and_suppresses_as_erased(ctx, door):
    door(ctx)

    assert not Subscriber.objects.exists() and not Subscription.objects.exists()
    assert Suppression.objects.get().reason == Suppression.Reason.ERASED
    assert Delivery.objects.get().subscriber is None  # the issue's figures stay, anonymous


@pytest.mark.parametrize("door", [one_click, mailed_with_token])
def test_leaving_later_keeps_a_stronger_reason_on_the_list(ctx, door):
    complaint(ctx)
    Subscription.objects.filter(newsletter=ctx.lists.weekly).update(status=ACTIVE)  # say it was re-added

    door(ctx, ctx.lists.weekly)

    assert state()[1] == Suppression.Reason.COMPLAINED


# The rule itself ------------------------------------------------------------------------------


def test_every_reason_has_a_rule_and_only_bounces_become_bounced():
    assert set(RULES) == set(Reason)
    assert {r for r, rule in RULES.items() if rule.status == BOUNCED} == {Reason.BOUNCE}
    assert {r for r, rule in RULES.items() if rule.whole_address} == {Reason.BOUNCE, Reason.COMPLAINT, Reason.ERASURE}


@pytest.mark.parametrize("reason", [Reason.BOUNCE, Reason.COMPLAINT, Reason.ERASURE])
def test_reasons_about_the_address_refuse_to_name_newsletters(ann, lists, reason):
    with pytest.raises(ValueError):
        end_subscriptions(ann, [lists.weekly], reason)


def test_the_result_says_what_happened(ann, lists):
    ended = end_subscriptions(ann, [lists.weekly.pk], Reason.ONE_CLICK)
    assert (ended.count, ended.status, ended.suppressed) == (1, UNSUBSCRIBED, False)
    ended = end_subscriptions(ann, reason="reader")
    assert (ended.count, ended.status, ended.suppressed) == (2, UNSUBSCRIBED, True)
    assert end_subscriptions(ann, reason=Reason.READER).count == 0


def test_nothing_but_the_rule_ends_a_subscription_or_suppresses_an_address():
    """Every door calls end_subscriptions: no other code writes unsubscribed_at or adds to the suppression list."""
    from pathlib import Path

    import newsletter

    root = Path(newsletter.__file__).parent
    writers = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        and any(marker in path.read_text() for marker in ("Suppression.add(", "unsubscribed_at=now"))
    }
    assert writers == {"subscribers/lifecycle.py"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_leaving_two_newsletters_at_the_same_moment_still_suppresses_the_address():
    """Each request alone still sees the other newsletter active; the rule decides them one after the other."""
    import threading

    from django.db import connection

    from newsletter.models import Newsletter

    for round_ in range(5):
        person = Subscriber.objects.create(email=f"p{round_}@example.org")
        newsletters = [Newsletter.objects.create(name=f"N{round_}{n}", slug=f"n{round_}-{n}") for n in range(2)]
        for newsletter in newsletters:
            Subscription.objects.create(subscriber=person, newsletter=newsletter, status=ACTIVE)
        barrier = threading.Barrier(2)

        def leave(newsletter, person=person, barrier=barrier):
            try:
                barrier.wait(timeout=10)
                Client().post(
                    _path(tokens.unsubscribe_url(person.pk, newsletter.pk)), {"List-Unsubscribe": "One-Click"}
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=leave, args=(n,)) for n in newsletters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert not Subscription.objects.filter(subscriber=person, status=ACTIVE).exists()
        assert Suppression.is_suppressed(person.email), f"round {round_}"
