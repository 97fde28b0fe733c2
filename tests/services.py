"""The one rule for services a test needs (PostgreSQL, Redis, Chromium, …): skip locally, fail with CI=true.

    require_service(redis_answers(url), f"needs Redis at {url}")

Locally a missing service skips the test with the message, so the rest of the suite still runs;
with CI=true (as .ci/run sets) it fails the test, so a CI run can never pass by skipping.
"""

import os

import pytest


def require_service(available, message):
    """Return when the service is there; otherwise skip, or fail under CI=true. Tests use only this."""
    __tracebackhide__ = True  # reports point at the test or fixture that needs the service
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required with CI=true)")
    pytest.skip(message)


def redis_answers(url, timeout=2):
    """True when a Redis server answers PING at url."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False
