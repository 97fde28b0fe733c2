"""GET /health/ reports the database, the broker and the worker's heartbeat, with 200 or 503."""

import datetime
import socket

import pytest
from django.core.cache import cache
from django.utils import timezone

from newsletter.health import HEARTBEAT_KEY, record_heartbeat

pytestmark = pytest.mark.django_db


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache(url):
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def test_it_is_ok_when_the_database_broker_and_a_worker_answer(client):
    record_heartbeat()

    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"] and body["worker"]["ok"]
    assert body["worker"]["age_seconds"] < 5


def test_it_is_never_cached_nor_redirected_to_https(client):
    response = client.get("/health/")  # plain HTTP, as a load balancer probes

    assert response.status_code in (200, 503)
    assert "no-cache" in response["Cache-Control"]


def test_it_reports_a_worker_that_has_not_beaten_for_minutes(client):
    cache.set(HEARTBEAT_KEY, (timezone.now() - datetime.timedelta(minutes=10)).isoformat(), timeout=None)

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["worker"]["ok"] is False
    assert body["worker"]["age_seconds"] >= 600
    assert body["database"]["ok"] and body["broker"]["ok"]


def test_it_reports_no_worker_before_the_first_heartbeat(client):
    cache.delete(HEARTBEAT_KEY)

    body = client.get("/health/").json()

    assert body["worker"]["ok"] is False
    assert "no heartbeat" in body["worker"]["error"]


def test_it_reports_a_stopped_redis_broker(client, settings):
    record_heartbeat()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{unused_port()}/7"  # nothing listens there

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert "refused" in body["broker"]["error"].lower()
    assert body["database"]["ok"] is True


def test_it_reports_a_stopped_redis_cache_as_no_worker_heartbeat(client, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{unused_port()}/7")

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["worker"]["ok"] is False
    assert body["worker"]["error"].startswith("cache:")


def test_it_is_ok_on_a_running_redis_as_broker_and_cache(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    settings.CACHES = redis_cache(redis_url)
    record_heartbeat()  # eager here; a worker runs it in production

    response = client.get("/health/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["broker"]["transport"] == "redis"
    assert body["worker"]["ok"] is True
