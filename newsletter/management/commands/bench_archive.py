"""python manage.py bench_archive [--concurrency 1,8,32] [--seconds 5] [--cache off,on] [--markdown]
                                 [--repeat 100] [--issues 1000] [--search care] [--in-process-only]

First, in-process (newsletter/management/benchpages.py): server CPU and wall time per page, uncached,
through Django's whole handler with no network (medians of --repeat requests), then search at the
database's own number of published issues and at --issues (the extra issues copied from the imported
ones inside a transaction that is rolled back, so nothing is left behind).

Then it load-tests the archive as production serves it: gunicorn with config/gunicorn.conf.py
(DEBUG off, WhiteNoise) on a free loopback port, driven by wrk (`apt-get install -y wrk`).
For each cache mode it starts a fresh gunicorn, then for each concurrency runs wrk
against the archive home, one newsletter's page, an issue, a search and a feed, and,
as the ceiling, a static file served by WhiteNoise from the same gunicorn; with the cache on, each
page's run is followed by a run of the static file at the same concurrency, and the page's rate is
given as a share of that neighbouring ceiling (the machine's load moves between runs).

Bounded: loopback only, each wrk run lasts --seconds (at most 30) with a 5 s request
timeout, and the whole run is (URLs × concurrencies × cache modes) runs long.
The page cache needs Redis: the server gets REDIS_URL (default: database 7 on
127.0.0.1:6379) in both modes, so the only difference is ARCHIVE_CACHE_SECONDS.
Requests carry X-Forwarded-Proto: https, as from the TLS proxy in front.

Uses the database in DATABASE_URL (or the default SQLite); import the seeds first.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.http import urlencode

from newsletter.management import benchpages
from newsletter.models import Issue

MAX_SECONDS = 30
HOST = "127.0.0.1"  # loopback only, never anything else
HEADERS = ["-H", "X-Forwarded-Proto: https"]  # as the TLS proxy in front sets it


class Command(BaseCommand):
    help = "Load-test the archive under gunicorn with wrk, with and without the page cache (loopback only)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", default="1,8,32", help="Open connections, comma-separated.")
        parser.add_argument("--seconds", type=int, default=5, help=f"Length of each wrk run (at most {MAX_SECONDS}).")
        parser.add_argument("--cache", default="off,on", help="Page cache modes to run: off, on, or both (default).")
        parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7")
        parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: its config).")
        parser.add_argument(
            "--search", default="care", help="Search queries, comma-separated; the first is loaded with wrk."
        )
        parser.add_argument("--markdown", action="store_true", help="Print a Markdown table at the end.")
        parser.add_argument("--repeat", type=int, default=100, help="In-process requests per page (median).")
        parser.add_argument("--issues", type=int, default=1000, help="Search again at this many issues (0: no).")
        parser.add_argument("--in-process-only", action="store_true", help="Skip gunicorn and wrk.")

    def handle(self, *args, concurrency, seconds, cache, redis_url, workers, search, markdown, **options):
        queries = [q.strip() for q in search.split(",") if q.strip()] or ["care"]
        if not 1 <= options["repeat"] <= 10_000 or not 0 <= options["issues"] <= 100_000:
            raise CommandError("--repeat takes 1 to 10,000 and --issues 0 to 100,000")
        in_process = self._in_process(queries, options["repeat"], options["issues"])
        if options["in_process_only"]:
            if markdown:
                self.stdout.write(_in_process_markdown(in_process))
            return None
        search = queries[0]
        wrk = shutil.which("wrk")
        if not wrk:
            raise CommandError("wrk is not installed: apt-get install -y wrk")
        if not 1 <= seconds <= MAX_SECONDS:
            raise CommandError(f"--seconds must be between 1 and {MAX_SECONDS}")
        levels = [int(c) for c in concurrency.split(",")]
        modes = [m.strip() for m in cache.split(",")]
        if any(c < 1 or c > 256 for c in levels) or not set(modes) <= {"off", "on"}:
            raise CommandError("--concurrency takes 1 to 256 each; --cache takes off and/or on")

        targets = self._targets(search)
        env = self._server_env(redis_url, workers)
        self._collectstatic(env)
        ceiling = ("static file (ceiling)", self._static_path(env))  # the page cache does not touch it: run once

        rows = []
        for mode in modes:
            port = _free_port()
            cache_seconds = "600" if mode == "on" else "0"
            mode_env = {**env, "GUNICORN_BIND": f"{HOST}:{port}", "ARCHIVE_CACHE_SECONDS": cache_seconds}
            with _gunicorn(mode_env) as base:
                for label, path in targets + ([ceiling] if mode == modes[0] else []):
                    _get(base + path)  # warm: first render, and the cache filled when it is on
                    for connections in levels:
                        result = _wrk(wrk, base + path, connections, seconds)
                        row = {"cache": mode, "page": label, "path": path, "connections": connections, **result}
                        if mode == "on" and path != ceiling[1]:
                            # The static file again right after, on the same server: the machine's load moves
                            # between runs, so the share compares neighbours in time.
                            row["ceiling_rps"] = _wrk(wrk, base + ceiling[1], connections, seconds)["rps"]
                        rows.append(row)
                        self.stdout.write(
                            f"cache {mode:3}  {label:22} c={connections:<3} {result['rps']:8.0f} req/s  "
                            f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms"
                            + (f"  errors {result['errors']}" if result["errors"] else "")
                        )
        self._shares(rows, levels)
        if markdown:
            self.stdout.write(_in_process_markdown(in_process))
            self.stdout.write(_markdown(rows, levels))
        return None

    def _in_process(self, queries, repeat, issues):
        """Per page CPU and wall (uncached), then search at the database's size and at `issues`."""
        pages = [(label, path) for label, path in self._targets(queries[0]) if label != "search"]
        rows = benchpages.time_pages(pages, repeat=repeat)
        searches = [(f"search “{q}”", reverse("archive:search") + "?" + urlencode({"q": q})) for q in queries]
        published = Issue.objects.listed().count()
        for row in benchpages.time_pages(searches, repeat=repeat):
            rows.append({**row, "issues": published})
        if issues > published:
            with transaction.atomic():
                benchpages.more_issues(issues)
                for row in benchpages.time_pages(searches, repeat=repeat):
                    rows.append({**row, "issues": Issue.objects.listed().count()})
                transaction.set_rollback(True)  # the copies were only for this measurement
        for row in rows:
            at = f" at {row['issues']} issues" if "issues" in row else ""
            self.stdout.write(
                f"in-process  {row['page'] + at:40} CPU {row['cpu_ms']:7.2f} ms  wall {row['wall_ms']:7.2f} ms"
                + ("" if row["status"] == 200 else f"  status {row['status']}")
            )
        return rows

    def _shares(self, rows, levels):
        for row in rows:
            if row.get("ceiling_rps"):
                row["share"] = row["rps"] / row["ceiling_rps"]
                self.stdout.write(
                    f"cached {row['page']:22} c={row['connections']:<3} {row['share']:6.0%} of the static-file rate"
                )

    def _targets(self, search):
        issue = Issue.objects.listed().select_related("newsletter").newest_first().first()
        if issue is None:
            raise CommandError("No published issue to load: run `manage.py import_seeds` first.")
        return [
            ("archive home", reverse("archive:home")),
            ("newsletter page", issue.newsletter.get_absolute_url()),
            ("issue page", issue.get_absolute_url()),
            ("search", reverse("archive:search") + f"?q={search}"),
            ("feed", reverse("archive:feed", args=[issue.newsletter.slug])),
        ]

    def _server_env(self, redis_url, workers):
        env = {
            **os.environ,
            "DEBUG": "false",
            "STATIC_MANIFEST": "true",
            "REDIS_URL": redis_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "GUNICORN_ACCESS_LOG": str(Path(settings.VAR_DIR) / "bench-access.log"),
            "PYTHONUNBUFFERED": "1",
        }
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        return env

    def _collectstatic(self, env):
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
            timeout=120,
        )

    def _static_path(self, env):
        manifest = json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())
        return "/" + settings.STATIC_URL.strip("/") + "/" + manifest["paths"]["newsletter/archive.css"]


class _gunicorn:
    """A gunicorn for the length of a `with` block; stopped (TERM, then KILL) on the way out."""

    def __init__(self, env):
        self.env = env
        self.base = f"http://{env['GUNICORN_BIND']}"

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "config/gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError("gunicorn exited at start; run `make serve` to see why")
            try:
                _get(self.base + "/health/")
                return self.base
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise CommandError("gunicorn did not answer within 30 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _get(url):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:  # /health/ answers 503 with no worker; still an answer
        return error.code


def _free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wrk(wrk, url, connections, seconds):
    assert url.startswith(f"http://{HOST}:"), url  # loopback only
    threads = min(2, connections)
    out = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", *HEADERS, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": _errors(out),
    }


def _ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def _errors(out):
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return errors


def _in_process_markdown(rows):
    lines = ["", "| page (in-process, uncached) | issues | CPU ms (median) | wall ms (median) |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['page']} | {row.get('issues', '')} | {row['cpu_ms']:.2f} | {row['wall_ms']:.2f} |")
    return "\n".join(lines)


def _markdown(rows, levels):
    head = "| page | cache | " + " | ".join(f"c={c} req/s (p50 / p99 ms)" for c in levels) + " |"
    lines = ["", head, "|" + "---|" * (2 + len(levels))]
    seen = []
    for row in rows:
        if (row["page"], row["cache"]) not in seen:
            seen.append((row["page"], row["cache"]))
    for page, mode in seen:
        cells = []
        for c in levels:
            r = next(r for r in rows if r["page"] == page and r["cache"] == mode and r["connections"] == c)
            cell = f"{r['rps']:.0f} ({r['p50_ms']:.1f} / {r['p99_ms']:.1f})"
            cell += f", {r['share']:.0%} of static ({r['ceiling_rps']:.0f})" if "share" in r else ""
            cells.append(cell + (f" {r['errors']} errors" if r["errors"] else ""))
        lines.append(f"| {page} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
