"""The whole pipeline with a real Celery worker on Redis, PostgreSQL and a real SMTP server (aiosmtpd):
each subscriber gets exactly one message, also when the worker is killed, the SMTP server misbehaves,
the broker delivers tasks twice, or someone unsubscribes mid-send.

Transactional tests (the worker must see committed rows) on the test database pytest-django created;
Redis database 5, on a queue of this run's own (emptied at start); short lease, backoff and visibility
timeout via the environment.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection
from django.utils import timezone

from newsletter.models import Delivery, Issue, Newsletter, Subscriber, Subscription
from newsletter.sending import sweep, workflow
from tests.delivery_helpers import RecordingHandler, start_smtp_server
from tests.services import redis_answers, require_service

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("DELIVERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/5")
QUEUE = f"delivery-test-{os.getpid()}"
WORKER_SETTINGS = {
    "DELIVERY_LEASE_SECONDS": "4",
    "DELIVERY_SMTP_TIMEOUT": "1",
    "DELIVERY_BACKOFF_SECONDS": "0.2",
    "DELIVERY_BACKOFF_MAX_SECONDS": "1",
    "DELIVERY_MAX_ATTEMPTS": "12",
    "DELIVERY_BATCH_SIZE": "20",
    "CELERY_VISIBILITY_TIMEOUT": "4",
}


class Workers:
    """Starts and kills `celery -A config worker` processes pointed at the test database."""

    def __init__(self, smtp_port, var_dir, **overrides):
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "EMAIL_URL")}
        self.env.update(
            DATABASE_URL=url,
            CELERY_BROKER_URL=BROKER,
            CELERY_TASK_DEFAULT_QUEUE=QUEUE,
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            CELERY_TASK_ALWAYS_EAGER="false",
            VAR_DIR=str(var_dir),
            LOG_LEVEL="WARNING",
            **WORKER_SETTINGS,
        )
        self.env.update(overrides)
        self.process, self.output = None, []

    def start(self):
        self.output = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "-l", "info"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, args=(self.process, self.output), daemon=True).start()
        wait_until(lambda: any(" ready." in line for line in self.output), 60, "the worker did not start")

    @staticmethod
    def _read(process, output):
        for line in process.stdout:
            output.append(line.decode(errors="replace"))

    def kill_pool_processes(self):
        """SIGKILL the pool processes (as the OOM killer would): the parent lives on and starts new ones."""
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=True)

    def batches(self):
        """The JSON lines the worker logged for each batch."""
        import json

        return [json.loads(line[line.index("{") :]) for line in self.output if '"event": "batch"' in line]

    def kill(self):
        """SIGKILL the worker and its pool: no chance to ack, release or record anything."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self):
        if self.process:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None

    def ensure_running(self):
        if self.process is None or self.process.poll() is not None:
            self.start()


def wait_until(predicate, seconds, message):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(message)


@pytest.fixture(scope="module")
def smtp():
    handler = RecordingHandler()
    controller = start_smtp_server(handler)
    yield SimpleServer(handler, controller.port)
    controller.stop()


class SimpleServer:
    def __init__(self, handler, port):
        self.handler, self.port = handler, port


@pytest.fixture(scope="module")
def workers(django_db_setup, django_db_blocker, smtp, tmp_path_factory):
    require_service(redis_answers(BROKER), f"needs Redis at {BROKER}")
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            yield None  # the postgres marker skips (or fails on CI) each test
            return
        import redis

        # A queue of this run's own, emptied at start: the whole database is not flushed, so a
        # benchmark or another engineer's run sharing Redis database 5 is left alone.
        redis.Redis.from_url(BROKER).delete(QUEUE, f"{QUEUE}\x06\x163", f"{QUEUE}\x06\x166", f"{QUEUE}\x06\x169")
        from config.celery import app

        saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options, app._pool)
        saved_queue = app.conf.task_default_queue
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app.conf.task_always_eager, app._pool = BROKER, False, None
        app.conf.broker_transport_options = {"visibility_timeout": 4}
        app.conf.task_default_queue = QUEUE
        app.__dict__.pop("amqp", None)  # rebuilt from the new default queue
        pool = Workers(smtp.port, tmp_path_factory.mktemp("worker-var"))
        pool.start()
        yield pool
        pool.stop()
        if app._pool is not None:
            app._pool.force_close_all()
        # The saved pool was closed above: leave none, so the next use builds a fresh one.
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options, _ = saved
        app._pool = None
        app.conf.task_default_queue = saved_queue
        app.__dict__.pop("amqp", None)
        kombu.pools.reset()


@pytest.fixture
def worker(workers, smtp, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    smtp.handler.reset()
    workers.ensure_running()
    return workers


@pytest.fixture
def issue_for(make_issue):
    """A draft with content, to `count` active subscribers of its own newsletter."""

    def make(count):
        newsletter = Newsletter.objects.create(
            name="Council Weekly", slug=f"council-{count}", sender_name="Council", sender_email="news@council.example"
        )
        people = Subscriber.objects.bulk_create(
            [Subscriber(email=f"reader{n}@example.com", name=f"Reader {n}") for n in range(count)]
        )
        Subscription.objects.bulk_create(
            [Subscription(subscriber=p, newsletter=newsletter, status="active") for p in people]
        )
        issue = make_issue(
            "Council weekly 1",
            newsletter=newsletter,
            status=Issue.Status.DRAFT,
            subject="This week at the council",
            sections=[{"heading": "Budgets", "body_markdown": "Read <https://example.org/budget>"}],
        )
        return issue, people

    return make


def wait_for_send(issue, seconds=90):
    def done():
        counts = workflow.progress(issue)
        return counts["total"] and not counts["pending"] and counts["status"] == Issue.Status.SENT

    wait_until(done, seconds, f"not finished: {workflow.progress(issue)}")
    return workflow.progress(issue)


def assert_exactly_once(smtp, people, skipped=()):
    got = smtp.handler.per_recipient()
    expected = {p.email: 1 for p in people if p.email not in skipped}
    twice = {k: v for k, v in got.items() if v > 1}
    missing = set(expected) - set(got)
    assert not twice, f"{len(twice)} got two copies or more"
    assert not missing, f"{len(missing)} got nothing"
    assert got == expected


def database_sessions():
    """Connections ever opened to the test database (PostgreSQL's statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_few_hundred_subscribers_each_get_one_message_with_both_parts(worker, smtp, issue_for, admin_client):
    issue, people = issue_for(300)
    sessions_before = database_sessions()

    workflow.start_send(issue)
    counts = wait_for_send(issue)
    # 15 batches of 20 and their follow-ups, yet each pool process keeps its connection (WORKER_CONN_MAX_AGE).
    assert database_sessions() - sessions_before <= 4

    assert_exactly_once(smtp, people)
    assert counts | {"rate": 0} == {
        "total": 300, "sent": 300, "failed": 0, "skipped": 0, "pending": 0, "rate": 0, "status": "sent"
    }  # fmt: skip
    mail_from, recipients, _ = smtp.handler.messages[0]
    message = smtp.handler.parsed()[0]
    row = Delivery.objects.get(subscriber__email=recipients[0])
    assert mail_from.startswith(f"bounces+{row.pk}.") and message["Message-ID"] == row.message_id
    assert message["Subject"] == "This week at the council"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<mailto:unsubscribe@council.example?subject=unsubscribe%20" in message["List-Unsubscribe"]
    assert message["Precedence"] == "bulk" and message["List-Id"] == "Council Weekly <council-300.council.example>"
    name = row.subscriber.name
    assert f"Hello {name}," in message.get_body(("plain",)).get_content()
    assert f"Hello {name}," in message.get_body(("html",)).get_content()
    assert "https://example.org/budget" in message.get_body(("plain",)).get_content()
    progress_url = f"/admin/newsletter/issue/{issue.pk}/delivery-progress/"
    assert admin_client.get(progress_url).json()["sent"] == 300


def test_a_worker_killed_mid_send_is_replaced_and_nobody_gets_two_copies(worker, smtp, issue_for):
    issue, people = issue_for(200)
    smtp.handler.reset(hold_at=70, hold_seconds=6)  # both pool processes end up waiting for an answer

    workflow.start_send(issue)
    assert smtp.handler.holding.wait(60), "the send never reached the 70th recipient"
    # Killed while every sender waits for the server's answer to RCPT: outside the one window
    # (accepted by the server, not yet recorded) that docs/delivery.md describes.
    deadline = time.monotonic() + 3  # (a process between batches holds no message either)
    while smtp.handler.held < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.kill()
    before = workflow.progress(issue)
    assert 0 < before["sent"] < 200 and before["pending"]

    worker.start()
    wait_for_send(issue, seconds=90)

    assert_exactly_once(smtp, people)
    assert workflow.progress(issue)["sent"] == 200
    assert smtp.handler.pipelined > 100  # killed mid pipelined group (issue 17): the same guarantee


def test_an_smtp_server_that_drops_connections_and_defers_still_gets_everyone_once(worker, smtp, issue_for):
    issue, people = issue_for(200)
    # Every 2nd session dies at its second MAIL FROM (by then the first message's final dot, with that MAIL FROM
    # behind it, is answered): a batch task keeps one session while it claims again, so a send of 200 opens only
    # a handful of sessions; the second task's first makes sure some die.
    smtp.handler.reset(drop_every=2, busy_seconds=1.5)

    workflow.start_send(issue)
    wait_for_send(issue)

    assert_exactly_once(smtp, people)
    assert Delivery.objects.filter(attempts__gt=1).exists()  # some were retried
    assert smtp.handler.dropped >= 1


def test_tasks_delivered_twice_send_nobody_a_second_copy(worker, smtp, issue_for):
    from config.celery import app

    issue, people = issue_for(150)

    workflow.start_send(issue)
    for _ in range(3):
        app.send_task("newsletter.delivery.send_issue", args=[issue.pk])
    for _ in range(12):
        app.send_task("newsletter.delivery.send_batch", args=[issue.pk])
    wait_for_send(issue)

    assert_exactly_once(smtp, people)
    assert Delivery.objects.filter(issue=issue).count() == 150


def test_unsubscribing_between_freeze_and_batch_means_no_copy(worker, smtp, issue_for):
    issue, people = issue_for(120)
    smtp.handler.reset(hold_at=1, hold_seconds=3)  # the first batch waits while people change their minds

    workflow.start_send(issue)
    assert smtp.handler.holding.wait(30)
    leavers = people[-10:]
    Subscription.objects.filter(subscriber__in=leavers).update(status="unsubscribed", unsubscribed_at=timezone.now())
    latecomer = Subscriber.objects.create(email="late@example.com")
    Subscription.objects.create(subscriber=latecomer, newsletter=issue.newsletter, status="active")
    counts = wait_for_send(issue)

    assert_exactly_once(smtp, people, skipped={p.email for p in leavers})
    assert "late@example.com" not in smtp.handler.per_recipient()
    assert counts["skipped"] == 10 and counts["sent"] == 110


@pytest.fixture
def workers_with(workers, smtp, tmp_path):
    """Replace the module's workers, for one test, by a pool with other settings (restored after)."""
    started = []

    def start(**overrides):
        workers.stop()
        smtp.handler.reset()
        pool = Workers(smtp.port, tmp_path, LOG_LEVEL="INFO", **overrides)
        pool.start()
        started.append(pool)
        return pool

    yield start
    for pool in started:
        pool.stop()


SLOW_RELAY = {"DELIVERY_BATCH_SIZE": "4", "DELIVERY_PARALLEL_BATCHES": "2", "CELERY_VISIBILITY_TIMEOUT": "120"}


@pytest.mark.parametrize(
    "lease, timeout, reply_delay, count",
    [
        ("8", "2", 1.5, 4),  # the reported case: four recipients, each got two copies
        ("15", "1.5", 1.35, 4),  # answers at 0.9 × the timeout, the default lease:timeout ratio (10:1)
    ],
)
def test_a_slow_relay_gets_each_message_once_and_batches_give_rows_back_in_time(
    workers_with, smtp, issue_for, lease, timeout, reply_delay, count
):
    pool = workers_with(DELIVERY_LEASE_SECONDS=lease, DELIVERY_SMTP_TIMEOUT=timeout, **SLOW_RELAY)
    issue, people = issue_for(count)
    smtp.handler.reset(reply_delay=reply_delay)

    workflow.start_send(issue)
    counts = wait_for_send(issue, seconds=180)

    assert_exactly_once(smtp, people)
    assert counts["sent"] == count and counts["failed"] == 0
    # Nobody's lease ran out and was taken again: rows were sent, or handed back while still held.
    assert set(Delivery.objects.filter(issue=issue).values_list("attempts", flat=True)) == {1}
    batches = pool.batches()
    assert any(batch["released"] for batch in batches), batches
    assert not any("lease_lost" in line for line in pool.output)


def test_a_killed_pool_process_costs_one_lease_not_the_visibility_timeout(workers_with, smtp, issue_for):
    # Redis would give an unacked task back only after an hour: the killed task must come back at once.
    pool = workers_with(CELERY_VISIBILITY_TIMEOUT="3600", DELIVERY_PARALLEL_BATCHES="1", DELIVERY_BATCH_SIZE="10")
    issue, people = issue_for(60)
    smtp.handler.reset(hold_at=15, hold_seconds=6)

    workflow.start_send(issue)
    assert smtp.handler.holding.wait(60), "the send never reached the 15th recipient"
    pool.kill_pool_processes()  # one chain only: without its task back, nothing would carry the send on
    wait_for_send(issue, seconds=60)

    assert_exactly_once(smtp, people)


def test_a_killed_worker_is_restored_by_the_sweep_not_the_visibility_timeout(workers_with, smtp, issue_for):
    pool = workers_with(CELERY_VISIBILITY_TIMEOUT="3600")
    issue, people = issue_for(150)
    smtp.handler.reset(hold_at=40, hold_seconds=5)

    workflow.start_send(issue)
    assert smtp.handler.holding.wait(60), "the send never reached the 40th recipient"
    while smtp.handler.held < 2:
        time.sleep(0.05)
    pool.kill()  # every chain's task dies unacked with it
    pool.start()
    deadline = time.monotonic() + 60
    while workflow.progress(issue)["status"] != Issue.Status.SENT and time.monotonic() < deadline:
        sweep.sweep()  # what beat does every DELIVERY_SWEEP_SECONDS
        time.sleep(1)

    wait_for_send(issue, seconds=5)
    assert_exactly_once(smtp, people)
