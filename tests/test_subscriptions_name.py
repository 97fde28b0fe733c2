"""Issue 9: a stranger's subscribe request never changes what is stored about an existing subscriber.

A name sent with a request for an existing address travels only in the confirmation link,
and is applied when the mailbox's owner presses Confirm. Everything goes through the real
views with the test client, reading mail.outbox.
"""

import pytest
from django.core import mail
from django.urls import reverse

from newsletter import tokens
from newsletter.models import Subscriber, Subscription

pytestmark = pytest.mark.usefixtures("fresh_cache")

STRANGER = "URGENT your account is suspended call 0800 123 456"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST as a browser would, running the on-commit hooks (the Celery tasks that send mail)."""

    def send(path, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, **kwargs)

    return send


@pytest.fixture
def events(make_newsletter):
    return make_newsletter("Events")


def active(email, name, *newsletters):
    subscriber = Subscriber.objects.create(email=email, name=name)
    for newsletter in newsletters:
        Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=Subscription.Status.ACTIVE)
    return subscriber


def subscribe_form(post, email, name, slugs):
    return post(reverse("subscriptions:subscribe"), {"email": email, "name": name, "newsletters": list(slugs)})


def subscribe_json(post, email, name, slugs):
    data = {"email": email, "name": name, "newsletters": list(slugs), "website": ""}
    return post(reverse("subscriptions:subscribe_api"), data, content_type="application/json")


DOORS = pytest.mark.parametrize("door", [subscribe_form, subscribe_json], ids=["form", "json"])


def confirm_link(mail_links, message):
    return next(link for link in mail_links(message) if "/subscribe/confirm/" in link)


@DOORS
def test_a_strangers_name_for_an_active_subscriber_is_not_stored(post, newsletter, door):
    ann = active("ann@example.org", "", newsletter)

    response = door(post, "ANN@example.org", STRANGER, ["weekly-update"])

    assert response.status_code == 200
    ann.refresh_from_db()
    assert ann.name == ""
    assert not mail.outbox  # already active: nothing to confirm, nothing sent


@DOORS
def test_a_strangers_request_for_another_newsletter_stores_nothing_and_the_mail_does_not_echo_it(
    post, newsletter, events, mail_links, door
):
    ann = active("ann@example.org", "", newsletter)

    door(post, "ann@example.org", STRANGER, ["events"])

    ann.refresh_from_db()
    assert ann.name == ""
    (message,) = mail.outbox
    assert message.body.startswith("Hello,")
    assert "URGENT" not in message.body + message.alternatives[0][0] + message.subject
    # Ignoring the mail, as the owner would, leaves the name alone; the link is what carries it.
    assert "URGENT" not in str(Subscriber.objects.values_list().get())


def test_the_answer_is_the_same_for_a_new_and_an_existing_address_and_only_the_new_one_gets_the_name(
    post, newsletter, events
):
    ann = active("ann@example.org", "", newsletter)

    for door in (subscribe_form, subscribe_json):
        new = door(post, f"new-{door.__name__}@example.org", STRANGER, ["weekly-update", "events"])
        existing = door(post, "ann@example.org", STRANGER, ["weekly-update", "events"])
        assert new.status_code == existing.status_code == 200
        assert new.content == existing.content

    ann.refresh_from_db()
    assert ann.name == ""
    assert set(Subscriber.objects.exclude(pk=ann.pk).values_list("name", flat=True)) == {STRANGER}


def test_a_new_name_is_applied_when_the_owner_confirms(client, post, newsletter, events, mail_links, parse_html):
    ann = active("ann@example.org", "Ann", newsletter)

    subscribe_form(post, "ann@example.org", "Ann Smith", ["events"])

    ann.refresh_from_db()
    assert ann.name == "Ann"  # not before the confirmation
    (message,) = mail.outbox
    assert message.body.startswith("Hello Ann,")
    assert "Ann Smith" not in message.body
    assert "Confirming also changes the name we greet you by" in message.body
    path = confirm_link(mail_links, message)
    page = client.get(path)  # what a mail scanner does: changes nothing, shows what Confirm will do
    assert "Ann Smith" in parse_html(page).find(class_="confirm-name").text
    ann.refresh_from_db()
    assert ann.name == "Ann"

    post(path)

    ann.refresh_from_db()
    assert ann.name == "Ann Smith"
    assert Subscription.objects.get(subscriber=ann, newsletter=events).status == Subscription.Status.ACTIVE
    assert mail.outbox[-1].body.startswith("Hello Ann Smith,")  # the welcome


def test_a_pending_subscriber_gets_the_name_of_the_request_they_confirm(post, newsletter, mail_links):
    subscribe_form(post, "bob@example.org", "", ["weekly-update"])
    Subscriber.objects.update(last_confirmation_sent_at=None)  # past the throttle
    subscribe_form(post, "bob@example.org", "Bob", ["weekly-update"])
    first, second = mail.outbox
    assert Subscriber.objects.get().name == ""

    assert "changes the name" not in first.body and "changes the name" in second.body
    post(confirm_link(mail_links, second))

    assert Subscriber.objects.get().name == "Bob"


def test_an_old_confirmation_link_does_not_undo_a_later_change(post, newsletter, events, mail_links):
    ann = active("ann@example.org", "", newsletter)
    subscribe_json(post, "ann@example.org", "Ann Smith", ["events"])
    assert Subscriber.objects.get().name == ""
    path = confirm_link(mail_links, mail.outbox[0])
    post(path)
    ann.refresh_from_db()
    assert ann.name == "Ann Smith"

    preferences = tokens.preferences_url(ann.pk).removeprefix("http://127.0.0.1:8000")
    post(preferences, {"name": "A. Smith", "newsletters": ["weekly-update", "events"]})
    post(path)  # the link is spent: nothing was pending any more

    ann.refresh_from_db()
    assert ann.name == "A. Smith"
