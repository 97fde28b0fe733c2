"""Benchmark the real send path end to end.

    manage.py bench_send --subscribers N [--workers K] [--json] [--dkim] [--topics T [--choices C]]
                         [--compare-raw] [--sink-command CMD | --latency-ms L]

Creates N throwaway subscribers of a throwaway newsletter, copies a real imported issue into
it, starts K Celery worker processes (one `celery -A config worker --concurrency K`) on the
configured broker (Redis with CELERY_BROKER_URL, else the filesystem queue), sends the issue
through start_send → send_issue → send_batch to the SMTP server named by EMAIL_URL, or to a
counting sink this command starts on loopback, waits until all N are recorded, checks that
nobody got two copies, prints the figures and removes everything it created.

Figures: messages/s end to end (start_send to the last delivery recorded), render time per
issue, worker CPU µs per recipient, peak RSS of a worker process, delivered, duplicates.

With --topics T it sends a personal edition: T throwaway topics, the issue's top-level sections (not the
closing one) tagged one topic each in turn, and subscriber i choosing the topics of bit mask 1 + (i mod C)
(C = --choices, default and at most 2**T - 1): C distinct choices, so C editions when the issue has at least
T sections to tag (the mask of every topic is the whole issue). Extra figures: editions rendered, and the time
to render all of them once (best of three, in the bench process, as the freeze does in the worker).

--compare-raw: in the same run, after the product's send, the yardstick: the same number of processes each send
their share of N copies of the same message (the product's bytes for one reader, personalised by replacing the
address and name) with smtplib over one reused connection, no database, into the same sink; prints both rates
and ratio_to_raw. --sink-command CMD uses an external sink (Postfix's smtp-sink; "{port}" in CMD is replaced by
a free loopback port; with its -c the command checks the message count), --latency-ms L makes the built-in sink
answer each burst of replies L ms late (a distant relay). The built-in sink advertises PIPELINING.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Max, Q

from newsletter.mail.message import IssueEmail
from newsletter.management.sendbench import CountingSink, ExternalSink, raw_loop
from newsletter.models import (
    Delivery,
    Issue,
    IssueEdition,
    Newsletter,
    Section,
    Subscriber,
    Subscription,
    Topic,
    topic_key,
)
from newsletter.rendering import issue_section_ids, render_editions, render_issue
from newsletter.sending import editions, workflow
from newsletter.sending.worker import OPEN

ROOT = Path(settings.BASE_DIR)
BENCH_DOMAIN = "bench.invalid"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _process_tree(pid):
    """pid and its descendants (the prefork pool)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def _peak_rss_mb(pids):
    peak = 0
    for pid in pids:
        try:
            match = re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        if match:
            peak = max(peak, int(match.group(1)))
    return round(peak / 1024, 1)


class Command(BaseCommand):
    help = "Send a real issue to N throwaway subscribers through the real path and print throughput figures."

    def add_arguments(self, parser):
        parser.add_argument("--subscribers", type=int, required=True)
        parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--dkim", action="store_true", help="sign in the app with a throwaway 2048-bit key")
        parser.add_argument("--timeout", type=float, default=1800)
        parser.add_argument("--topics", type=int, default=0, help="send a personal edition over T topics")
        parser.add_argument("--choices", type=int, default=0, help="distinct topic choices (default 2**T - 1)")
        parser.add_argument("--count-clicks", action="store_true", help="the newsletter counts clicks (short links)")
        parser.add_argument(
            "--compare-raw",
            action="store_true",
            help="then send N copies with a bare smtplib loop (same message, same sink, same processes): both rates",
        )
        parser.add_argument(
            "--sink-command",
            default="",
            help='an external sink instead of the built-in one, "{port}" where its port goes '
            '(e.g. "/usr/sbin/smtp-sink -c -u nobody 127.0.0.1:{port} 1000")',
        )
        parser.add_argument("--latency-ms", type=float, default=0, help="the built-in sink answers this much later")

    def handle(self, *args, subscribers, workers, as_json, dkim, timeout, topics, choices, **options):
        n = subscribers
        sink = None
        if options["sink_command"] and options["latency_ms"]:
            raise CommandError("--latency-ms is for the built-in sink, not --sink-command")
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        # A queue of this run's own, so other workers on the same broker never take its tasks.
        env["CELERY_TASK_DEFAULT_QUEUE"] = self._use_queue(f"bench-send-{os.getpid()}")
        if options["sink_command"]:
            try:
                sink = ExternalSink(options["sink_command"]).start()
            except (ValueError, RuntimeError, OSError) as exc:
                raise CommandError(f"--sink-command: {exc}") from exc
            env["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
        elif not settings.EMAIL_URL:
            sink = CountingSink(latency_ms=options["latency_ms"]).start()
            env["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
        if dkim:
            env.update(self._dkim_env())
        source = self._source(topics)
        if source is None:
            call_command("import_seeds", verbosity=0)
            source = self._source(topics)
        if source is None:
            raise CommandError("No imported issue to send; run import_seeds.")
        choices = min(choices or 2**topics - 1, 2**topics - 1) if topics else 0
        newsletter, issue = self._setup(source, n, topics, choices)
        if options.get("count_clicks"):
            Newsletter.objects.filter(pk=newsletter.pk).update(count_clicks=True)
            issue = Issue.objects.select_related("newsletter").get(pk=issue.pk)
        worker = None
        try:
            render_times = []
            for _ in range(3):
                began = time.perf_counter()
                rendered = render_issue(issue)
                render_times.append(time.perf_counter() - began)
            edition_render_ms = self._edition_render_ms(issue) if topics else None
            worker = self._start_worker(env, workers)
            tree = _process_tree(worker.pid)
            cpu_before = _cpu_seconds(tree)
            started_wall = time.time()
            workflow.start_send(issue, mode=editions.PERSONAL if topics else None)
            deadline = time.monotonic() + timeout
            # A cheap indexed check while it runs (a full count on every poll would load the database).
            open_rows = Delivery.objects.filter(issue=issue, status__in=OPEN)
            while not Delivery.objects.filter(issue=issue).exists() or open_rows.exists():
                if time.monotonic() > deadline or Issue.objects.filter(pk=issue.pk, status="paused").exists():
                    raise CommandError(f"Not finished: {workflow.progress(issue)}")
                time.sleep(0.5)
            counts = workflow.progress(issue)
            last = Delivery.objects.filter(issue=issue).aggregate(m=Max("sent_at"))["m"]
            seconds = max(last.timestamp() - started_wall, 1e-6)
            tree = _process_tree(worker.pid)
            cpu = _cpu_seconds(tree) - cpu_before
            rss = _peak_rss_mb(tree)
            if isinstance(sink, CountingSink):
                time.sleep(0.2)
                delivered, duplicates = sink.count(BENCH_DOMAIN)
            elif sink and sink.messages() is not None:
                time.sleep(0.5)  # smtp-sink -c: messages it took (per recipient only the database's view)
                delivered, duplicates = sink.messages(), 0
            else:
                delivered = counts["sent"]
                duplicates = 0  # only the database's view: the unique (issue, subscriber) row
            result = {
                "subscribers": n,
                "workers": workers,
                "database": connection.vendor,
                "broker": settings.CELERY_BROKER_URL.split("://")[0],
                "dkim": dkim,
                "count_clicks": bool(options.get("count_clicks")),
                "messages_per_second": round(counts["sent"] / seconds, 1),
                "render_ms_per_issue": round(min(render_times) * 1000, 1),
                "html_bytes": rendered.html_size,
                "cpu_us_per_recipient": round(cpu * 1e6 / max(counts["sent"], 1)),
                "peak_rss_mb_per_worker_process": rss,
                "delivered": delivered,
                "failed": counts["failed"],
                "duplicates": duplicates,
                "seconds": round(seconds, 2),
            }
            if options["compare_raw"]:
                result.update(self._compare_raw(issue, sink, n, workers, result["messages_per_second"]))
            if topics:
                result.update(
                    topics=topics,
                    choices=choices,
                    editions=IssueEdition.objects.filter(issue=issue).count(),
                    render_ms_all_editions=edition_render_ms,
                )
        finally:
            if worker:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
            if sink:
                sink.stop()
            self._cleanup(newsletter, issue)
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key:32} {value}")
        if duplicates or delivered != n:
            raise CommandError(f"delivered {delivered} of {n}, {duplicates} duplicate(s)")
        if options["compare_raw"] and (result["raw_delivered"] != n or result["raw_duplicates"]):
            raise CommandError(f"the bare loop delivered {result['raw_delivered']} of {n}")

    @staticmethod
    def _compare_raw(issue, sink, n, processes, product_rate):
        """The bare loop into the same sink: the product's message for one reader, personalised by replacement."""
        issue = Issue.objects.select_related("newsletter").get(pk=issue.pk)
        sample = IssueEmail(issue).build(delivery_id=1, subscriber_id=1, address="%%ADDR%%", name="%%NAME%%")
        addresses = [(f"raw-{i}@{BENCH_DOMAIN}", f"Reader {i}") for i in range(n)]
        if isinstance(sink, CountingSink):
            sink.per_recipient.clear()
            before = 0
        else:
            before = sink.messages() if sink else None
        port = sink.port if sink else settings.EMAIL_PORT
        sent, seconds, cpu = raw_loop(port, sample.raw, sample.envelope_from, addresses, processes)
        if isinstance(sink, CountingSink):
            time.sleep(0.2)
            delivered, duplicates = sink.count(BENCH_DOMAIN)
        elif before is not None:
            time.sleep(0.5)
            delivered, duplicates = sink.messages() - before, 0
        else:
            delivered, duplicates = sent, 0
        raw_rate = round(sent / max(seconds, 1e-6), 1)
        return {
            "raw_messages_per_second": raw_rate,
            "raw_seconds": round(seconds, 2),
            "raw_cpu_us_per_recipient": round(cpu * 1e6 / max(sent, 1)),
            "raw_delivered": delivered,
            "raw_duplicates": duplicates,
            "ratio_to_raw": round(product_rate / raw_rate, 2) if raw_rate else None,
        }

    @staticmethod
    def _use_queue(name):
        from config.celery import app

        app.conf.task_default_queue = name
        app.__dict__.pop("amqp", None)  # routing is rebuilt from the new default queue
        return name

    @staticmethod
    def _source(topics):
        """The newest imported issue; with topics, the one with the most top-level sections to tag."""
        imported = Issue.objects.filter(status=Issue.Status.IMPORTED)
        if not topics:
            return imported.order_by("-id").first()
        counted = imported.annotate(n=Count("sections", filter=Q(sections__parent=None)))
        return counted.order_by("-n", "-id").first()

    @staticmethod
    def _edition_render_ms(issue):
        plan = editions.snapshot(issue, editions.PERSONAL)
        planned = editions.plan_editions(plan, issue_section_ids(issue), editions.key_counts(editions.audience(issue)))
        times = []
        for _ in range(3):
            began = time.perf_counter()
            render_editions(issue, [(e.section_ids, "") for e in planned.editions])
            times.append(time.perf_counter() - began)
        return round(min(times) * 1000, 1)

    def _setup(self, source, n, topics=0, choices=0):
        run = f"bench-{int(time.time())}"
        newsletter = Newsletter.objects.create(
            name=f"Benchmark {run}", slug=run, sender_name="Bench", sender_email=f"news@{BENCH_DOMAIN}"
        )
        issue = source.copy_as_draft()
        Issue.objects.filter(pk=issue.pk).update(newsletter=newsletter)
        issue.refresh_from_db()
        made_topics = [
            Topic.objects.create(newsletter=newsletter, name=f"Topic {t}", slug=f"topic-{t}") for t in range(topics)
        ]
        taggable = issue.sections.filter(parent=None).exclude(kind=Section.Kind.CLOSING).order_by("position", "id")
        for j, section in enumerate(taggable if topics else ()):
            section.topics.add(made_topics[j % topics])
        keys = [topic_key(made_topics[t].pk for t in range(topics) if (mask + 1) >> t & 1) for mask in range(choices)]
        chunk = 5000
        for start in range(0, n, chunk):
            made = Subscriber.objects.bulk_create(
                [
                    Subscriber(email=f"{run}-{i}@{BENCH_DOMAIN}", name=f"Reader {i}")
                    for i in range(start, min(n, start + chunk))
                ]
            )
            if not made or made[0].pk is None:  # backends that do not return ids
                made = Subscriber.objects.filter(email__startswith=f"{run}-").order_by("pk")[start : start + chunk]
            Subscription.objects.bulk_create(
                [
                    Subscription(
                        subscriber=s,
                        newsletter=newsletter,
                        status=Subscription.Status.ACTIVE,
                        topics=keys[(start + k) % choices] if choices else "",
                    )
                    for k, s in enumerate(made)
                ]
            )
        return newsletter, issue

    def _start_worker(self, env, processes):
        log = tempfile.TemporaryFile()  # noqa: SIM115  (kept open for the worker's lifetime)
        name = f"bench-{os.getpid()}@%h"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={processes}"]
        worker = subprocess.Popen(
            [*command, "-l", "warning", "-n", name],
            cwd=ROOT,
            env={**env, "CELERY_TASK_ALWAYS_EAGER": "false", "LOG_LEVEL": "WARNING"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Ready when the pool's processes exist (celery prints nothing at warning level).
        deadline = time.monotonic() + 60
        while len(_process_tree(worker.pid)) < processes + 1:
            if worker.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise CommandError("the worker did not start:\n" + log.read().decode(errors="replace")[-3000:])
            time.sleep(0.2)
        # Ready when it answers a ping: it then consumes tasks, as a worker already running when an editor
        # presses Send does (its start, about a second, is not part of the send being measured).
        from config.celery import app

        while not app.control.ping(destination=[name.replace("%h", socket.gethostname())], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise CommandError("the worker did not answer:\n" + log.read().decode(errors="replace")[-3000:])
        return worker

    def _dkim_env(self):
        key = Path(tempfile.mkdtemp()) / "dkim.pem"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        return {"DKIM_PRIVATE_KEY_FILE": str(key), "DKIM_SELECTOR": "bench", "DKIM_DOMAIN": BENCH_DOMAIN}

    def _cleanup(self, newsletter, issue):
        # Raw deletes: collecting 100,000 cascades through the ORM would take longer than the send.
        Delivery.objects.filter(issue=issue)._raw_delete(connection.alias)
        Subscription.objects.filter(newsletter=newsletter)._raw_delete(connection.alias)
        Subscriber.objects.filter(email__startswith=f"{newsletter.slug}-")._raw_delete(connection.alias)
        IssueEdition.objects.filter(issue=issue).delete()
        issue.delete()
        newsletter.delete()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Each run leaves a few hundred thousand dead rows; without this the next run's freeze and claims wade
            # through them (autovacuum lags behind a bench that churns this fast), and runs slow down one by one.
            with connection.cursor() as cursor:
                for model in (Delivery, Subscription, Subscriber):
                    cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
