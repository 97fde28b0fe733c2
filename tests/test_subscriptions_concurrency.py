"""Two subscribe requests for one address at the same moment leave one subscriber and one subscription."""

import threading

import kombu.pools
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from newsletter.models import Newsletter, Subscriber, Subscription


@pytest.fixture
def eager_tasks():
    """Run tasks in-process here whatever an earlier test left in the shared Celery app."""
    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # Eager tasks still take a producer from the app's pools: start from fresh ones, in case an
    # earlier test closed them (the threads here would otherwise fail with "Acquire on closed pool").
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.task_always_eager = saved


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_subscribes_for_one_address_leave_exactly_one_subscription(eager_tasks):
    from django.core.cache import cache

    cache.clear()
    weekly = Newsletter.objects.create(name="Weekly", slug="weekly")
    events = Newsletter.objects.create(name="Events", slug="events")
    rounds, threads_per_round = 5, 2
    answers = []

    def subscribe(address, barrier):
        try:
            barrier.wait(timeout=10)
            response = Client(REMOTE_ADDR=f"192.0.2.{threading.get_ident() % 250}").post(
                reverse("subscriptions:subscribe"), {"email": address, "newsletters": ["weekly", "events"]}
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    for n in range(rounds):
        barrier = threading.Barrier(threads_per_round)
        address = f"Same.Person{n}@Example.org" if n % 2 else f"same.person{n}@example.org"
        threads = [threading.Thread(target=subscribe, args=(address, barrier)) for _ in range(threads_per_round)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert answers == [200] * rounds * threads_per_round
    assert Subscriber.objects.count() == rounds
    for newsletter in (weekly, events):
        assert Subscription.objects.filter(newsletter=newsletter).count() == rounds
    cache.clear()
