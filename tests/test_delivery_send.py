"""Sending an issue in-process (eager tasks): freeze, claim, send, record; against the outbox or a real SMTP server."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber, Subscription, Suppression
from newsletter.sending import lease, sweep, worker, workflow


@pytest.fixture
def sender(newsletter):
    newsletter.sender_name = "SSRG"
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.reply_to = "editor@ssrg.example.org"
    newsletter.postal_address = "1 High Street\nLeeds LS1 1AA"
    newsletter.save()
    return newsletter


@pytest.fixture
def subscribe(sender):
    def make(count, prefix="reader", status=Subscription.Status.ACTIVE):
        people = []
        for n in range(count):
            person = Subscriber.objects.create(email=f"{prefix}{n}@example.com", name=f"Reader {n}")
            Subscription.objects.create(
                subscriber=person,
                newsletter=sender,
                status=status,
                confirmed_at=timezone.now() - datetime.timedelta(days=1),
            )
            people.append(person)
        return people

    return make


@pytest.fixture
def draft(rich_issue, sender):
    return rich_issue.copy_as_draft()


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Start the send and run every queued task (eagerly) until nothing is left."""

    def run(issue, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(issue, user)
        issue.refresh_from_db()
        return issue

    return run


def test_each_active_subscriber_gets_one_personal_copy_in_the_outbox(draft, subscribe, send):
    readers = subscribe(5)
    subscribe(2, prefix="left", status=Subscription.Status.UNSUBSCRIBED)

    issue = send(draft)

    assert issue.status == Issue.Status.SENT and issue.sent_at
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"Reader {n} <{r.email}>" for n, r in enumerate(readers))
    first = mail.outbox[0]
    html = first.alternatives[0][0]
    assert "Hello Reader" in first.body and "Hello Reader" in html
    assert "%%" not in html and "%%" not in first.body
    assert workflow.progress(issue) | {"rate": 0} == {
        "total": 5, "sent": 5, "failed": 0, "skipped": 0, "pending": 0, "rate": 0, "status": "sent"
    }  # fmt: skip


def test_the_message_carries_list_headers_and_a_bounce_address_of_its_own(draft, subscribe, send):
    subscribe(2)
    send(draft)

    message = mail.outbox[0].message()
    assert message["From"] == "SSRG <news@ssrg.example.org>"
    assert message["Reply-To"] == "editor@ssrg.example.org"
    assert message["Precedence"] == "bulk"
    assert message["List-Id"] == "SSRG Weekly Update <weekly-update.ssrg.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = " ".join(message["List-Unsubscribe"].split())
    assert unsubscribe.startswith("<http://127.0.0.1:8000/unsubscribe/")
    assert "<mailto:unsubscribe@ssrg.example.org?subject=unsubscribe%20" in unsubscribe
    assert message["Message-ID"].endswith("@ssrg.example.org>")
    assert message["Return-Path"].startswith("<bounces+")
    return_paths = {m.message()["Return-Path"] for m in mail.outbox}
    assert len(return_paths) == 2  # VERP: one per delivery


def test_what_was_mailed_is_frozen_on_the_issue(draft, subscribe, send):
    subscribe(1)
    issue = send(draft)
    mailed = issue.sent_html

    issue.intro = "A correction made after sending."
    issue.save()

    issue.refresh_from_db()
    assert issue.sent_html == mailed and "correction" not in issue.sent_html
    assert issue.sent_subject == "Weekly update 24 May 2011"


def test_imported_issues_are_never_sent(rich_issue, subscribe):
    subscribe(1)
    with pytest.raises(workflow.SendError, match="never sent"):
        workflow.start_send(rich_issue)
    assert not Delivery.objects.exists()


def test_starting_twice_sends_once(draft, subscribe, send):
    subscribe(3)
    send(draft)
    with pytest.raises(workflow.SendError):
        workflow.start_send(draft)
    worker.send_issue(draft.pk)  # a duplicated freeze task
    assert len(mail.outbox) == 3 and Delivery.objects.count() == 3


def test_the_audience_is_frozen_once_and_late_subscribers_wait_for_the_next_issue(
    draft, subscribe, sender, django_capture_on_commit_callbacks
):
    subscribe(3)
    workflow.start_send(draft)  # queued; the freeze has not run yet
    late = Subscriber.objects.create(email="late@example.com")
    Subscription.objects.create(subscriber=late, newsletter=sender, status="active", confirmed_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        worker.send_issue(draft.pk)
        worker.send_issue(draft.pk)

    assert Delivery.objects.filter(issue=draft).count() == 3
    assert "late@example.com" not in [m.to[0] for m in mail.outbox]


def test_someone_who_unsubscribes_after_the_freeze_gets_nothing(draft, subscribe, django_capture_on_commit_callbacks):
    readers = subscribe(4)
    workflow.start_send(draft)
    worker.send_issue(draft.pk)  # frozen; batches not yet run
    Subscription.objects.filter(subscriber=readers[0]).update(status=Subscription.Status.UNSUBSCRIBED)
    Suppression.add(readers[1].email, Suppression.Reason.ERASED)

    with django_capture_on_commit_callbacks(execute=True):
        worker.send_batch(draft.pk)

    assert sorted(m.to[0].split("<")[1].rstrip(">") for m in mail.outbox) == [readers[2].email, readers[3].email]
    assert Delivery.objects.get(subscriber=readers[0]).status == Delivery.Status.SKIPPED
    assert workflow.progress(draft)["skipped"] == 2


def test_a_test_send_reaches_only_the_given_address_and_records_nothing(draft, subscribe):
    subscribe(3)
    assert workflow.send_test(draft, ["editor@example.com"]) == 1
    assert [m.to for m in mail.outbox] == [["editor@example.com"]]
    assert mail.outbox[0].subject.startswith("[Test] ")
    assert not Delivery.objects.exists()
    draft.refresh_from_db()
    assert draft.status == Issue.Status.DRAFT


def test_claims_never_overlap_and_an_expired_lease_is_taken_again(draft, subscribe, settings):
    subscribe(5)
    Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENDING, send_started_at=timezone.now())
    draft.refresh_from_db()
    worker.freeze(draft)

    first = lease.claim(draft.pk, 3)
    second = lease.claim(draft.pk, 3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert lease.claim(draft.pk, 3) == []

    later = timezone.now() + datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    assert sorted(lease.claim(draft.pk, 10, now=later)) == sorted(first + second)
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {2}


def test_scheduled_issue_is_sent_once_when_its_time_comes(draft, subscribe, django_capture_on_commit_callbacks):
    subscribe(2)
    when = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(draft, when)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.sweep() == []
        assert sweep.sweep(now=when + datetime.timedelta(seconds=1)) == [draft.pk]
        assert sweep.sweep(now=when + datetime.timedelta(seconds=2)) == []

    draft.refresh_from_db()
    assert draft.status == Issue.Status.SENT and len(mail.outbox) == 2


def test_a_schedule_can_be_cancelled_before_sending_starts(draft, subscribe):
    subscribe(1)
    workflow.schedule(draft, timezone.now() + datetime.timedelta(hours=1))
    assert workflow.cancel_schedule(draft)
    assert draft.status == Issue.Status.DRAFT and draft.scheduled_for is None
    assert sweep.sweep(now=timezone.now() + datetime.timedelta(hours=2)) == []
    assert not mail.outbox


def test_over_smtp_a_refused_address_fails_alone_and_the_rest_arrive(draft, subscribe, send, smtp_server):
    readers = subscribe(6)
    server = smtp_server(refuse=[readers[2].email])

    send(draft)

    assert sorted(server.per_recipient()) == sorted(r.email for n, r in enumerate(readers) if n != 2)
    failed = Delivery.objects.get(subscriber=readers[2])
    assert failed.status == Delivery.Status.FAILED and failed.last_error.startswith("550")
    assert workflow.progress(draft)["sent"] == 5


def test_over_smtp_a_dropped_connection_is_retried_later_without_a_second_copy(
    draft, subscribe, smtp_server, settings, django_capture_on_commit_callbacks
):
    readers = subscribe(8)
    server = smtp_server(drop_every=1)  # every session dies at its second message
    settings.DELIVERY_BACKOFF_SECONDS = 0.01

    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_send(draft)
    for _ in range(20):
        if not Delivery.objects.filter(status__in=worker.OPEN).exists():
            break
        with django_capture_on_commit_callbacks(execute=True):
            sweep.sweep(now=timezone.now() + datetime.timedelta(seconds=1))

    assert server.per_recipient() == {r.email: 1 for r in readers}
    assert max(Delivery.objects.values_list("attempts", flat=True)) > 1


def test_transient_failures_give_up_after_the_attempt_limit(draft, subscribe, smtp_server, settings, send):
    subscribe(2)
    smtp_server(busy_seconds=3600)
    settings.DELIVERY_MAX_ATTEMPTS = 1

    send(draft)

    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}
    assert Delivery.objects.first().last_error.startswith("Gave up after 1 attempts: 451")


def test_a_send_pauses_when_failures_pass_the_share_and_resumes(
    draft, subscribe, smtp_server, settings, django_capture_on_commit_callbacks
):
    readers = subscribe(10)
    server = smtp_server(refuse=[r.email for r in readers[:3]])
    settings.DELIVERY_PAUSE_MIN_FINISHED, settings.DELIVERY_BATCH_SIZE = 5, 5
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_send(draft)
    draft.refresh_from_db()
    assert draft.status == Issue.Status.PAUSED
    assert workflow.progress(draft)["pending"] == 5

    server.refuse.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow.resume(draft)
    assert workflow.progress(draft) | {"rate": 0} == {
        "total": 10, "sent": 7, "failed": 3, "skipped": 0, "pending": 0, "rate": 0, "status": "sent"
    }  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        assert workflow.retry_failed(draft) == 3
    assert workflow.progress(draft)["sent"] == 10
    assert server.per_recipient() == {r.email: 1 for r in readers}


def test_with_no_mail_server_messages_land_in_the_file_outbox(draft, subscribe, send, settings, tmp_path):
    settings.EMAIL_BACKEND = "newsletter.mail.outbox.OutboxBackend"
    settings.OUTBOX_DIR = tmp_path
    subscribe(3)

    send(draft)

    files = sorted(p.name for p in tmp_path.glob("*.eml"))
    assert len(files) == 3 and all(name.startswith(f"issue{draft.pk}.d") for name in files)
