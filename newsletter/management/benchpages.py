"""bench_archive's in-process half: server CPU and wall time per page, and search at 1,000 issues.

Each page is requested through Django's whole request handler and middleware (the test client: no
network, no gunicorn) with DEBUG off and the page cache off, so every request renders; each figure is
the median of `repeat` requests after a few warm-up ones. CPU is this process's user + system time
(time.process_time), so it includes the database driver's work but not PostgreSQL's own; wall adds
the waits for the database.

`more_issues(total)` brings the listed (public, published) issues up to `total` by copying the imported ones (their
title, sections and search text, rendered HTML as it is) into a throwaway newsletter, with bulk
inserts: run it inside a transaction that is rolled back, as the command does.
"""

import statistics
import time

from django.db import connection
from django.db.models import Prefetch
from django.test import Client
from django.test.utils import override_settings

from newsletter.models import Issue, Newsletter, Section
from newsletter.models.content import Visibility

HEADERS = {"X-Forwarded-Proto": "https"}  # as from the TLS proxy in front
BENCH_SLUG = "bench-archive-copies"


def time_pages(targets, *, repeat=100, warmup=5):
    """[{"page", "path", "cpu_ms", "wall_ms", "status"}] per (label, path): medians over `repeat` requests."""
    rows = []
    with override_settings(DEBUG=False, ARCHIVE_CACHE_SECONDS=0, ALLOWED_HOSTS=["testserver"]):
        client = Client(headers=HEADERS)
        for label, path in targets:
            status = None
            for _ in range(warmup):
                status = client.get(path).status_code
            cpu, wall = [], []
            for _ in range(repeat):
                c0, w0 = time.process_time(), time.perf_counter()
                client.get(path)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
            rows.append(
                {
                    "page": label,
                    "path": path,
                    "status": status,
                    "cpu_ms": round(statistics.median(cpu) * 1000, 2),
                    "wall_ms": round(statistics.median(wall) * 1000, 2),
                }
            )
    return rows


def more_issues(total):
    """Copy listed issues until `total` are listed; returns how many were added (0 if already there)."""
    have = Issue.objects.listed().count()
    if have >= total:
        return 0
    sources = list(
        Issue.objects.listed()
        .filter(sections__isnull=False)
        .distinct()
        .order_by("pk")
        .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("parent_id", "position", "id")))
    )
    if not sources:
        raise ValueError("No published issue with sections to copy: import the seeds first.")
    newsletter, _ = Newsletter.objects.get_or_create(
        slug=BENCH_SLUG, defaults={"name": "Bench archive copies (throwaway)"}
    )
    wanted = total - have
    copies = []
    for n in range(wanted):
        source = sources[n % len(sources)]
        copies.append(
            Issue(
                newsletter=newsletter,
                title=f"{source.title} ({n + 1})",
                slug=f"copy-{n + 1}",
                status=Issue.Status.IMPORTED,
                visibility=Visibility.PUBLIC,
                issue_date=source.issue_date,
                date_precision=source.date_precision,
                intro=source.intro,
                sign_off=source.sign_off,
                search_text=source.search_text,
            )
        )
    copies = Issue.objects.bulk_create(copies, batch_size=200)
    sections = []
    for n, copy in enumerate(copies):
        source = sources[n % len(sources)]
        for section in source.sections.all():
            if section.parent_id is None:  # top level only: enough for the pages, and no parents to remap
                sections.append(_copy_section(section, copy))
    Section.objects.bulk_create(sections, batch_size=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would after such a load: plans for 1,000 rows, not 18
            cursor.execute("ANALYZE newsletter_issue, newsletter_section")
    return wanted


def _copy_section(section, issue):
    fields = ("position", "heading", "kind", "body_markdown", "body_html", "source", "venue", "fee", "booking")
    copy = Section(issue=issue, **{name: getattr(section, name) for name in fields})
    if copy.kind == Section.Kind.DIGEST_ITEM:
        copy.kind = Section.Kind.ARTICLE
    copy.event_date, copy.event_time = section.event_date, section.event_time
    return copy
