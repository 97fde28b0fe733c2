"""Personal editions with a real Celery worker on Redis, PostgreSQL and aiosmtpd: an issue with 3 topics to
300 subscribers with mixed choices; each gets exactly one message with exactly their sections, text part too.
(The Workers fixture and its settings: tests/test_delivery_worker.py.)"""

import pytest

from newsletter.models import Delivery, Issue, Newsletter, Section, Subscriber, Subscription, Topic, topic_key
from newsletter.sending import editions, workflow
from tests.test_delivery_worker import assert_exactly_once, smtp, wait_for_send, worker, workers  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MARKERS = {"Health": "HEALTH-MARK", "Events": "EVENTS-MARK", "Finance": "FINANCE-MARK"}


def test_three_topics_to_300_subscribers_each_get_exactly_their_sections(worker, smtp, make_issue):  # noqa: F811
    newsletter = Newsletter.objects.create(
        name="Council Topics", slug="council-topics", sender_name="Council", sender_email="news@council.example"
    )
    topics = [Topic.objects.create(newsletter=newsletter, name=name, slug=name.lower()) for name in MARKERS]
    issue = make_issue(
        "Topics weekly",
        newsletter=newsletter,
        status=Issue.Status.DRAFT,
        sections=[{"heading": f"{name} news", "body_markdown": marker} for name, marker in MARKERS.items()]
        + [{"heading": "", "kind": Section.Kind.CLOSING, "body_markdown": "CLOSING-MARK"}],
    )
    for section, topic in zip(issue.sections.order_by("position"), topics, strict=False):
        section.topics.set([topic])
    # Mixed choices: everything, each single topic, each pair, all three (= everything again).
    choices = [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
    people = Subscriber.objects.bulk_create([Subscriber(email=f"t{n}@example.com") for n in range(300)])
    chosen = {p.email: choices[n % len(choices)] for n, p in enumerate(people)}
    Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber=p,
                newsletter=newsletter,
                status="active",
                topics=topic_key(topics[i].pk for i in chosen[p.email]),
            )
            for p in people
        ]
    )

    workflow.start_send(issue, mode=editions.PERSONAL)
    counts = wait_for_send(issue)

    assert counts["sent"] == 300
    assert_exactly_once(smtp, people)
    names = list(MARKERS)
    for (_, recipients, _), message in zip(smtp.handler.messages, smtp.handler.parsed(), strict=True):
        wanted = chosen[recipients[0]] or (0, 1, 2)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for n, name in enumerate(names):
            assert (MARKERS[name] in text) == (n in wanted), (recipients[0], name)
            assert (MARKERS[name] in html) == (n in wanted), (recipients[0], name)
        assert "CLOSING-MARK" in text and "CLOSING-MARK" in html
    # One rendering per distinct set of sections: all, 3 singles, 3 pairs.
    assert issue.editions.count() == 7
    assert not Delivery.objects.filter(issue=issue, edition=None).exists()
