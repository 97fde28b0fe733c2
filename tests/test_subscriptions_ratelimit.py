"""Subscribe attempts are limited per client IP and per address; the limiter works on the database cache and Redis."""

import os
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

from newsletter import ratelimit
from newsletter.models import Subscriber
from tests.services import redis_answers, require_service

pytestmark = pytest.mark.usefixtures("fresh_cache")
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/3")


def post(client, email, ip="203.0.113.7"):
    return client.post(
        reverse("subscriptions:subscribe"), {"email": email, "newsletters": "weekly-update"}, REMOTE_ADDR=ip
    )


@override_settings(SUBSCRIBE_RATE_PER_IP=3, SUBSCRIBE_RATE_PER_ADDRESS=100)
def test_one_client_ip_is_limited_whatever_the_addresses(client, newsletter):
    answers = [post(client, f"person{n}@example.org").status_code for n in range(4)]

    assert answers == [200, 200, 200, 429]
    assert post(client, "other@example.org", ip="198.51.100.1").status_code == 200  # another client is not
    assert Subscriber.objects.count() == 4


@override_settings(SUBSCRIBE_RATE_PER_IP=100, SUBSCRIBE_RATE_PER_ADDRESS=2)
def test_one_address_is_limited_across_clients_and_spellings(client, newsletter):
    answers = [
        post(client, "ann@example.org", ip="198.51.100.1").status_code,
        post(client, "ANN@example.org", ip="198.51.100.2").status_code,
        post(client, "Ann@Example.org", ip="198.51.100.3").status_code,
    ]

    assert answers == [200, 200, 429]


@override_settings(SUBSCRIBE_RATE_PER_IP=1)
def test_a_limited_answer_says_when_to_retry_and_is_the_same_for_any_address(client, newsletter):
    post(client, "first@example.org")
    known = post(client, "first@example.org")
    unknown = post(client, "never-seen@example.org")

    assert known.status_code == unknown.status_code == 429
    assert int(known["Retry-After"]) > 0
    assert "Too many attempts" in known.text


@override_settings(SUBSCRIBE_RATE_PER_IP=1)
def test_the_json_endpoint_shares_the_limit(client, newsletter):
    url = reverse("subscriptions:subscribe_api")
    first = client.post(
        url, {"email": "a@example.org", "newsletters": ["weekly-update"]}, content_type="application/json"
    )
    second = client.post(
        url, {"email": "b@example.org", "newsletters": ["weekly-update"]}, content_type="application/json"
    )

    assert (first.status_code, second.status_code) == (200, 429)
    assert second.json()["ok"] is False


def test_the_limiter_counts_per_window():
    key = f"test:{uuid.uuid4()}"

    assert [ratelimit.allow(key, 2, 60, now=1000.0) for _ in range(3)] == [True, True, False]
    assert ratelimit.allow(key, 2, 60, now=1000.0 + 60)  # the next window starts afresh


def test_the_limiter_holds_on_redis():
    require_service(redis_answers(REDIS_TEST_URL), f"needs Redis at {REDIS_TEST_URL}")
    settings = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_TEST_URL}
    with override_settings(CACHES={"default": settings}):
        caches["default"].clear()
        try:
            key = f"test:{uuid.uuid4()}"
            answers = [ratelimit.allow(key, 5, 60) for _ in range(7)]
            assert answers == [True] * 5 + [False] * 2
        finally:
            caches["default"].clear()


def test_the_client_ip_comes_from_the_proxy_only_when_told(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")

    assert ratelimit.client_ip(request) == "10.0.0.1"
    with override_settings(RATELIMIT_TRUST_FORWARDED_FOR=True):
        assert ratelimit.client_ip(request) == "203.0.113.9"
