"""A small fixed-window rate limiter on Django's cache (Redis when REDIS_URL is set), for public forms.

    from newsletter.ratelimit import allow, client_ip
    if not allow(f"contribute:ip:{client_ip(request)}", limit=10, window_seconds=3600):
        ...answer 429...

Each (key, window) is one cache counter: `add` starts it at 0 with the window as its
timeout, `incr` counts. On Redis `incr` is atomic, so the limit holds across every
web process; on the database cache it is close enough for a single machine. A
burst may straddle two windows, so up to twice `limit` can pass in one window's
length: fine for abuse control, not for billing.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

PREFIX = "ratelimit"


def _cache_key(key, window_seconds, now):
    # Hashed: keys may hold addresses, and memcached-style backends dislike spaces and length.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}:{digest}:{window_seconds}:{int(now // window_seconds)}"


def hit(key, window_seconds, now=None):
    """Count one event for key in the current window; returns the count so far in it."""
    now = time.time() if now is None else now
    cache_key = _cache_key(key, window_seconds, now)
    cache.add(cache_key, 0, timeout=window_seconds + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 1)
        return 1


def allow(key, limit, window_seconds, now=None):
    """True while key has been seen at most `limit` times in the current window (this call counts)."""
    return hit(key, window_seconds, now) <= limit


def retry_after(window_seconds, now=None):
    """Seconds until the current window ends, for a Retry-After header."""
    now = time.time() if now is None else now
    return max(1, int(window_seconds - (now % window_seconds)))


def client_ip(request):
    """The client's IP: REMOTE_ADDR, or, with RATELIMIT_TRUST_FORWARDED_FOR (one reverse proxy in front),
    the last X-Forwarded-For entry: the one our proxy appended, which a client cannot forge."""
    if getattr(settings, "RATELIMIT_TRUST_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class RateLimiter:
    """DELIVERY_RATE_LIMIT messages per second across all workers: a per-second counter in the cache (Redis)."""

    def __init__(self, per_second):
        self.per_second = per_second

    def wait(self):
        if not self.per_second:
            return
        while True:
            now = time.time()
            if hit("delivery:send", 1, now=now) <= self.per_second:
                return
            time.sleep(max(0.001, 1 - (now % 1)))
