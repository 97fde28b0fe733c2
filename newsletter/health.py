"""GET /health/: is the database answering, the broker reachable, a worker alive?

JSON, never cached, 200 when every check passes and 503 otherwise, for uptime
monitors and load balancers. Each check catches its own failure, so one dead
service is reported rather than turned into a 500:

    {"status": "ok", "database": {"ok": true, "ms": 0.4},
     "broker": {"ok": true, "ms": 1.2},
     "worker": {"ok": true, "last_heartbeat": "2026-…", "age_seconds": 12}}

The worker check reads the heartbeat that `record_heartbeat` (queued by beat every
minute, run by a worker) leaves in the cache: a fresh heartbeat means beat, the
broker and at least one worker all work.
"""

import datetime
import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery import app as celery_app

BROKER_TIMEOUT = 2  # seconds; a monitor's own timeout is usually 5–10


@require_safe
@never_cache
def health(request):
    checks = {"database": _database(), "broker": _broker(), "worker": _worker()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _timed(check):
    started = time.perf_counter()
    try:
        details = check() or {}
    except Exception as exc:  # the point is to report any failure, not to raise it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **details}


def _database():
    def check():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(check)


def _broker():
    def check():
        # The URL is read from settings on each call, so tests can point it elsewhere.
        url = settings.CELERY_BROKER_URL
        with celery_app.connection_for_write(url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        return {"transport": url.split("://", 1)[0]}

    return _timed(check)


def _worker():
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": f"cache: {type(exc).__name__}: {exc}"}
    if not beat:
        return {"ok": False, "error": "no heartbeat yet: is a worker and beat running?"}
    last = datetime.datetime.fromisoformat(beat)
    age = (timezone.now() - last).total_seconds()
    result = {"ok": age <= settings.HEALTH_HEARTBEAT_MAX_AGE, "last_heartbeat": beat, "age_seconds": round(age)}
    if not result["ok"]:
        result["error"] = f"last heartbeat {round(age)} s ago (more than {settings.HEALTH_HEARTBEAT_MAX_AGE} s)"
    return result


# The worker's heartbeat -----------------------------------------------------------------------

HEARTBEAT_KEY = "worker-heartbeat"


@shared_task(name="newsletter.tasks.record_heartbeat")  # a stable name: queued messages outlive refactors
def record_heartbeat():
    """Beat runs this every minute, so the site can tell whether a worker is alive."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
