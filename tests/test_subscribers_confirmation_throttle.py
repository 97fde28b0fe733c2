"""Issue 11: a confirmation mail the page promises is always on its way.

At most one confirmation mail goes to an address per CONFIRMATION_MIN_INTERVAL; one asked for
within the interval is queued for the moment it ends (a Celery ETA), claimed with a compare-and-set
when it runs, and covers every newsletter still pending then. Tests run Celery eagerly, which runs an
ETA task at once: where the test needs "the interval has not ended yet", it holds the on-commit hooks
that queue the task (as a worker holds an ETA task) and runs them later.
"""

import datetime
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core import mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from newsletter import tokens
from newsletter.models import Subscriber, Subscription
from newsletter.subscribers import tasks
from newsletter.subscribers.confirmations import ConfirmationPlan, request_confirmation

pytestmark = pytest.mark.usefixtures("fresh_cache")
ADDRESS = "ann@example.org"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST as a browser would, running the on-commit hooks (the Celery tasks that send mail)."""

    def send(path, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, **kwargs)

    return send


@pytest.fixture
def lists(newsletter, make_newsletter):
    return newsletter, make_newsletter("Events"), make_newsletter("Jobs")


@pytest.fixture
def queued(monkeypatch):
    """Every confirmation task queued: (args, kwargs, eta); they still run (eagerly)."""
    calls = []
    task = tasks.send_confirmation
    original = task.apply_async  # delay() calls it too

    def apply_async(args=None, kwargs=None, eta=None, **options):
        calls.append((tuple(args or ()), kwargs or {}, eta))
        return original(args, kwargs, eta=eta, **options)

    monkeypatch.setattr(task, "apply_async", apply_async)
    return calls


def minutes_pass(minutes):
    """Move the last confirmation mail (and everything pending) back in time, as if minutes had passed."""
    shift = datetime.timedelta(minutes=minutes)
    Subscriber.objects.update(last_confirmation_sent_at=F("last_confirmation_sent_at") - shift)
    Subscription.objects.update(updated_at=F("updated_at") - shift)


def notice(response):
    match = re.search(r'<div class="alert alert-success" role="status">(.*?)</div>', response.text, re.S)
    return " ".join(match.group(1).split()) if match else ""


def preferences(subscriber):
    return tokens.preferences_url(subscriber.pk).removeprefix("http://127.0.0.1:8000")


def links(message, kind):
    return [u.removeprefix("http://127.0.0.1:8000") for u in re.findall(r"https?://\S+", message.body) if kind in u]


def test_the_task_keeps_its_registered_name():
    assert tasks.send_confirmation.name == "newsletter.tasks.send_confirmation"


def test_ticking_more_newsletters_within_the_interval_sends_one_mail_when_it_ends(
    client, post, lists, queued, django_capture_on_commit_callbacks
):
    """The issue's steps: subscribe, confirm, open the preferences link, tick another newsletter, Save."""
    weekly, events, jobs = lists
    post(reverse("subscriptions:subscribe"), {"email": ADDRESS, "newsletters": [weekly.slug]})
    post(links(mail.outbox[0], "/subscribe/confirm/")[0])
    welcome = mail.outbox[-1]
    path = links(welcome, "/preferences/")[0]
    ann = Subscriber.objects.get()
    first_mail_at = ann.last_confirmation_sent_at
    minutes_pass(4)
    sent_before = len(mail.outbox)

    with django_capture_on_commit_callbacks() as held:  # the interval has not ended yet
        first = client.post(path, {"name": "", "newsletters": [weekly.slug, events.slug]})
        again = client.post(path, {"name": "", "newsletters": [weekly.slug, events.slug, jobs.slug]})

    assert "we will send in 6 minutes" in notice(first) and "it will cover Events." in notice(first)
    assert "we will send in 6 minutes" in notice(again) and "it will cover Events, Jobs." in notice(again)
    assert len(mail.outbox) == sent_before and len(held) == 1  # one mail planned, none sent yet

    held[0]()  # queued with an ETA at the interval's end; the worker runs it then

    _, kwargs, eta = queued[-1]
    assert eta == first_mail_at - datetime.timedelta(minutes=4) + datetime.timedelta(seconds=600)
    assert kwargs == {"planned_for": eta.isoformat()}

    (planned,) = mail.outbox[sent_before:]
    assert planned.to == [ADDRESS] and planned.subject == "Please confirm: Events, Jobs"
    post(links(planned, "/subscribe/confirm/")[0])
    assert set(Subscription.objects.filter(status="active").values_list("newsletter__name", flat=True)) == {
        weekly.name,
        "Events",
        "Jobs",
    }


def test_saving_again_says_the_mail_that_went_out_covers_what_is_pending(client, post, lists):
    weekly, events, _ = lists
    ann = Subscriber.objects.create(email=ADDRESS)
    Subscription.objects.create(subscriber=ann, newsletter=weekly, status="active")
    data = {"name": "", "newsletters": [weekly.slug, events.slug]}

    first = post(preferences(ann), data)
    assert "confirm from the email we are sending now" in notice(first) and len(mail.outbox) == 1
    minutes_pass(3)
    again = post(preferences(ann), data)  # the old code skipped the pending one and said nothing

    assert "To start Events, confirm from the email we sent 3 minutes ago; it covers Events." in notice(again)
    assert len(mail.outbox) == 1
    minutes_pass(10)
    later = post(preferences(ann), data)  # the interval is over: a fresh mail, now
    assert "confirm from the email we are sending now" in notice(later) and len(mail.outbox) == 2


def test_subscribing_again_within_the_interval_sends_one_mail_covering_both_newsletters(
    client, post, lists, queued, parse_html
):
    weekly, events, _ = lists
    first = post(reverse("subscriptions:subscribe"), {"email": ADDRESS, "newsletters": [weekly.slug]})
    minutes_pass(2)

    second = post(reverse("subscriptions:subscribe"), {"email": ADDRESS, "newsletters": [events.slug]})

    assert first.content == second.content  # the same answer whatever the state of the address
    assert "It can take up to 10 minutes" in parse_html(second).find(class_="lede").text
    assert [eta is not None for _, _, eta in queued] == [False, True]  # now, then at the interval's end
    first_mail, planned = mail.outbox
    assert first_mail.subject == f"Please confirm: {weekly.name}"
    assert planned.subject == f"Please confirm: Events, {weekly.name}"  # one mail, both newsletters


def test_the_json_endpoint_promises_the_same(client, lists):
    response = client.post(
        reverse("subscriptions:subscribe_api"),
        {"email": ADDRESS, "newsletters": [lists[0].slug]},
        content_type="application/json",
    )
    assert "It can take up to 10 minutes" in response.json()["message"]


def test_a_planned_mail_goes_out_once_even_when_its_task_arrives_twice(lists, django_capture_on_commit_callbacks):
    _, events, _ = lists
    ann = Subscriber.objects.create(email=ADDRESS, last_confirmation_sent_at=timezone.now())
    Subscription.objects.create(subscriber=ann, newsletter=events, status="pending")

    with django_capture_on_commit_callbacks():  # held: the worker would run it when the interval ends
        plan = request_confirmation(ann)
    assert plan.when == ConfirmationPlan.LATER
    args, kwargs = (ann.pk,), {"planned_for": plan.at.isoformat()}

    assert tasks.send_confirmation.apply(args, kwargs).get() is True
    assert tasks.send_confirmation.apply(args, kwargs).get() is False  # a second delivery: the slot is taken
    assert len(mail.outbox) == 1
    # Its own retry (after an SMTP error) keeps the claim and sends.
    assert tasks.send_confirmation.apply(args, kwargs, retries=1).get() is True


def test_an_editors_mail_meanwhile_makes_the_planned_one_stand_down(lists, queued, django_capture_on_commit_callbacks):
    _, events, jobs = lists
    ann = Subscriber.objects.create(email=ADDRESS, last_confirmation_sent_at=timezone.now())
    Subscription.objects.create(subscriber=ann, newsletter=events, status="pending")
    with django_capture_on_commit_callbacks() as held:
        request_confirmation(ann)
    Subscription.objects.create(subscriber=ann, newsletter=jobs, status="pending")

    with django_capture_on_commit_callbacks(execute=True):
        assert request_confirmation(ann, force=True).when == ConfirmationPlan.NOW
    held[0]()

    (message,) = mail.outbox
    assert message.subject == "Please confirm: Events, Jobs"


def test_resend_confirmation_in_the_admin_says_what_will_happen(client, lists, django_capture_on_commit_callbacks):
    weekly, events, _ = lists
    user = get_user_model().objects.create(username="ed", is_staff=True, is_superuser=True)
    client.force_login(user)
    recent = Subscriber.objects.create(email="recent@example.org", last_confirmation_sent_at=timezone.now())
    Subscription.objects.create(subscriber=recent, newsletter=events, status="pending")
    fresh = Subscriber.objects.create(email="fresh@example.org")
    Subscription.objects.create(subscriber=fresh, newsletter=events, status="pending")
    active = Subscriber.objects.create(email="active@example.org")
    Subscription.objects.create(subscriber=active, newsletter=weekly, status="active")

    with django_capture_on_commit_callbacks() as held:
        response = client.post(
            reverse("admin:newsletter_subscriber_changelist"),
            {"action": "resend_confirmation", ACTION_CHECKBOX_NAME: [recent.pk, fresh.pk, active.pk]},
            follow=True,
        )

    text = " ".join(str(m) for m in response.context["messages"])
    assert "Queued 1 confirmation email(s) now." in text
    assert "1 will go out when 10 minutes have passed since their last one" in text
    assert "1 skipped: nothing pending." in text
    assert len(held) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_within_the_interval_plan_exactly_one_mail(monkeypatch):
    import threading

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from newsletter.models import Newsletter

    cache.clear()
    slugs = [f"list-{n}" for n in range(4)]
    for slug in slugs:
        Newsletter.objects.create(name=slug.title(), slug=slug)
    ann = Subscriber.objects.create(email=ADDRESS, last_confirmation_sent_at=timezone.now())
    queued = []
    monkeypatch.setattr(tasks.send_confirmation, "apply_async", lambda *a, **kw: queued.append((a, kw)))
    barrier = threading.Barrier(len(slugs))
    answers = []

    def subscribe(slug):
        try:
            barrier.wait(timeout=10)
            client = Client(REMOTE_ADDR=f"192.0.2.{slugs.index(slug) + 1}")
            answers.append(client.post(reverse("subscriptions:subscribe"), {"email": ADDRESS, "newsletters": [slug]}))
        finally:
            connection.close()

    threads = [threading.Thread(target=subscribe, args=(slug,)) for slug in slugs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [a.status_code for a in answers] == [200] * len(slugs)
    (call,) = queued  # one planned mail; the others found it planned
    assert call[1]["eta"] == Subscriber.objects.get(pk=ann.pk).last_confirmation_sent_at
    assert Subscription.objects.filter(status="pending").count() == len(slugs)
    cache.clear()
