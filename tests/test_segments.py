"""Issue 13: segments of a newsletter's subscribers (topics, subscribed since, consent method, address domain),
their live count in the admin, and a segment as the audience of a send or a test send. Sends run in-process
(eager tasks, the locmem outbox), as in test_delivery_send.py."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Delivery, Issue, Subscriber, Subscription, Topic, topic_key
from newsletter.models.topics import Segment
from newsletter.sending import editions, workflow

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def topics(newsletter):
    return {n: Topic.objects.create(newsletter=newsletter, name=n, slug=n.lower()) for n in ("Health", "Events")}


def reader(newsletter, email, *, chosen=(), days_ago=30, method=Subscription.Method.FORM, status="active"):
    person, _ = Subscriber.objects.get_or_create(email=email)
    return Subscription.objects.create(
        subscriber=person,
        newsletter=newsletter,
        status=status,
        method=method,
        confirmed_at=NOW - datetime.timedelta(days=days_ago) if status == "active" else None,
        topics=topic_key(t.pk for t in chosen),
    )


@pytest.fixture
def people(newsletter, topics, make_newsletter):
    reader(newsletter, "ann@council.gov.uk", chosen=[topics["Health"]], days_ago=400)
    reader(newsletter, "bob@council.gov.uk", chosen=[topics["Events"]], days_ago=5, method="import")
    reader(newsletter, "cat@Council.gov.uk".lower(), days_ago=5)  # everything
    reader(newsletter, "dan@example.org", chosen=[topics["Health"]], days_ago=5, method="admin")
    reader(newsletter, "eve@subdomain.council.gov.uk", days_ago=5)  # another domain
    reader(newsletter, "fay@council.gov.uk", status="pending")  # not active: never counted
    reader(newsletter, "gus@council.gov.uk", status="unsubscribed")
    other = make_newsletter("Other", slug="other")
    reader(other, "hal@council.gov.uk")  # another newsletter's


def segment(newsletter, name="Colleagues", topics=(), **fields):
    made = Segment.objects.create(newsletter=newsletter, name=name, **fields)
    made.topics.set(topics)
    return made


def members(seg):
    return sorted(seg.subscriptions().values_list("subscriber__email", flat=True))


def test_a_segments_members_match_every_criterion(newsletter, topics, people):
    assert members(segment(newsletter, "All")) == [
        "ann@council.gov.uk", "bob@council.gov.uk", "cat@council.gov.uk", "dan@example.org",
        "eve@subdomain.council.gov.uk",
    ]  # fmt: skip
    assert members(segment(newsletter, "Domain", domain="@Council.GOV.uk")) == [
        "ann@council.gov.uk", "bob@council.gov.uk", "cat@council.gov.uk"
    ]  # fmt: skip
    health = segment(newsletter, "Health", topics=[topics["Health"]])
    assert members(health) == [
        "ann@council.gov.uk",
        "cat@council.gov.uk",
        "dan@example.org",
        "eve@subdomain.council.gov.uk",
    ]  # fmt: skip  (everything includes Health)
    since = segment(
        newsletter, "New", subscribed_since=(NOW - datetime.timedelta(days=30)).date(), domain="council.gov.uk"
    )
    assert members(since) == ["bob@council.gov.uk", "cat@council.gov.uk"]
    assert members(segment(newsletter, "Imported", method="import")) == ["bob@council.gov.uk"]
    assert health.subscriptions().count() == 4


def test_a_domain_must_be_a_domain(newsletter):
    from django.core.exceptions import ValidationError

    for bad in ("someone@council.gov.uk", "council", "council gov.uk"):
        with pytest.raises(ValidationError):
            Segment(newsletter=newsletter, name="x", domain=bad).full_clean()


def test_the_count_endpoint_counts_the_criteria_as_edited(editor_client, client, newsletter, topics, people):
    url = reverse("admin:newsletter_segment_count")

    def count(**params):
        response = editor_client.get(url, {"newsletter": newsletter.pk, **params})
        return response.status_code, response.json()

    assert count() == (200, {"count": 5})
    assert count(domain="@council.gov.uk") == (200, {"count": 3})
    assert count(domain="council.gov.uk", topics=[topics["Events"].pk]) == (200, {"count": 2})  # bob, cat
    assert count(method="admin") == (200, {"count": 1})
    status, body = count(domain="not a domain")
    assert status == 400 and "domain" in body["errors"]
    editor_client.logout()
    assert editor_client.get(url, {"newsletter": newsletter.pk}).status_code == 302  # the admin's login


def test_the_change_form_shows_the_count_and_loads_the_script_without_inline_code(editor_client, newsletter, people):
    seg = segment(newsletter, domain="council.gov.uk")
    page = editor_client.get(reverse("admin:newsletter_segment_change", args=[seg.pk])).content.decode()
    assert 'id="segment-count"' in page and ">3</output>" in page
    assert 'data-count-url="/admin/newsletter/segment/count/"' in page
    assert "newsletter/segment-count.js" in page
    changelist = editor_client.get(reverse("admin:newsletter_segment_changelist")).content.decode()
    assert "@council.gov.uk" in changelist


def test_topics_of_another_newsletter_are_refused(editor_client, newsletter, make_newsletter):
    other = Topic.objects.create(newsletter=make_newsletter("Other", slug="other"), name="Grants", slug="grants")
    response = editor_client.post(
        reverse("admin:newsletter_segment_add"),
        {"newsletter": newsletter.pk, "name": "Mixed", "topics": [other.pk], "domain": "", "method": ""},
    )
    assert response.status_code == 200 and "Choose only topics of the segment" in response.content.decode()
    assert not Segment.objects.exists()


# Sends ------------------------------------------------------------------------------------------------------


@pytest.fixture
def draft(make_issue, topics):
    issue = make_issue(
        "Segment week",
        status=Issue.Status.DRAFT,
        sections=[
            {"heading": "Clinic news", "body_markdown": "HEALTH-BODY"},
            {"heading": "Fair", "body_markdown": "x"},
        ],
    )
    issue.sections.get(heading="Clinic news").topics.set([topics["Health"]])
    return issue


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(issue, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(issue, **kwargs)
        issue.refresh_from_db()
        return issue

    return run


def test_a_send_to_a_segment_reaches_exactly_its_members_in_one_insert(newsletter, people, draft, send):
    seg = segment(newsletter, domain="council.gov.uk")

    with CaptureQueriesContext(connection) as queries:
        issue = send(draft, segment=seg)

    assert sorted(m.to[0] for m in mail.outbox) == members(seg) == [
        "ann@council.gov.uk", "bob@council.gov.uk", "cat@council.gov.uk"
    ]  # fmt: skip
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 3
    inserts = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith(f"INSERT INTO {Delivery._meta.db_table}")
    ]
    assert len(inserts) == 1 and "SELECT" in inserts[0]  # the freeze: one INSERT … SELECT, the segment in SQL
    assert issue.send_plan["segment"]["name"] == "Colleagues"


def test_a_segment_narrows_a_personal_edition(newsletter, topics, people, draft, send):
    seg = segment(newsletter, subscribed_since=(NOW - datetime.timedelta(days=30)).date())

    send(draft, mode=editions.PERSONAL, segment=seg)

    received = {m.to[0]: m for m in mail.outbox}
    assert sorted(received) == ["bob@council.gov.uk", "cat@council.gov.uk", "dan@example.org",
                                "eve@subdomain.council.gov.uk"]  # fmt: skip
    assert "HEALTH-BODY" not in received["bob@council.gov.uk"].body  # Events only
    assert "HEALTH-BODY" in received["dan@example.org"].body


def test_a_scheduled_send_keeps_the_segment_as_it_was_frozen(newsletter, people, draft, send):
    seg = segment(newsletter, domain="example.org")
    workflow.schedule(draft, NOW + datetime.timedelta(hours=1), segment=seg)
    seg.domain = "council.gov.uk"
    seg.save()
    draft.refresh_from_db()

    send(draft)

    assert [m.to[0] for m in mail.outbox] == ["dan@example.org"]


def test_the_send_by_topic_screen_sends_to_a_segment_after_stating_the_count(
    admin_client, newsletter, people, draft, django_capture_on_commit_callbacks
):
    seg = segment(newsletter, domain="council.gov.uk")
    url = reverse("editor:send_topics", args=[draft.pk])

    page = admin_client.get(url, {"mode": editions.ALL, "segment": seg.pk}).content.decode()
    assert "Only the members of the segment “Colleagues”" in page
    assert 'class="recipient-count">3<' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"mode": editions.ALL, "segment": seg.pk, "action": "send"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Issue.Status.SENT
    assert sorted(m.to[0] for m in mail.outbox) == members(seg)
    assert sorted(Delivery.objects.filter(issue=draft).values_list("subscriber__email", flat=True)) == members(seg)


def test_a_test_send_to_a_segment_mails_its_members_and_records_no_delivery(admin_client, newsletter, people, draft):
    seg = segment(newsletter, domain="council.gov.uk")
    url = reverse("editor:send_topics", args=[draft.pk])

    response = admin_client.post(url, {"mode": editions.ALL, "segment": seg.pk, "action": "test"})

    assert response.status_code == 302 and f"segment={seg.pk}" in response["Location"]
    assert sorted(m.to[0] for m in mail.outbox) == members(seg)
    assert all(m.subject.startswith("[Test]") for m in mail.outbox)
    assert not Delivery.objects.exists()
    draft.refresh_from_db()
    assert draft.status == Issue.Status.DRAFT


def test_a_test_send_to_a_large_segment_is_refused(admin_client, newsletter, draft, monkeypatch):
    from newsletter.editor import topicsend

    monkeypatch.setattr(topicsend, "SEGMENT_TEST_LIMIT", 2)
    for n in range(3):
        reader(newsletter, f"p{n}@council.gov.uk")
    seg = segment(newsletter, domain="council.gov.uk")

    response = admin_client.post(
        reverse("editor:send_topics", args=[draft.pk]),
        {"mode": "all", "segment": seg.pk, "action": "test"},
        follow=True,
    )

    assert "a test goes to at most 2" in response.content.decode()
    assert not mail.outbox
