"""Edition planning (who gets which sections), pure; and sends with topics in-process (eager tasks, the outbox)."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Delivery, Issue, IssueEdition, Section, Subscriber, Subscription, Topic, topic_key
from newsletter.sending import editions, worker, workflow

PLAN = {
    "mode": editions.PERSONAL,
    "selected": [],
    "topics": [{"id": 1, "name": "Health", "slug": "health"}, {"id": 2, "name": "Events", "slug": "events"},
               {"id": 3, "name": "Finance", "slug": "finance"}],
    "sections": {"10": [1], "20": [2], "30": [1, 3]},
}  # fmt: skip
ORDER = [5, 10, 20, 30, 40]  # 5 and 40 untagged (an introduction, the closing)


def test_each_topic_set_keeps_its_sections_and_the_untagged_ones():
    plan = editions.plan_editions(PLAN, ORDER, {"": 4, ",1,": 3, ",2,": 2, ",3,": 1, ",1,3,": 5})
    by_label = {e.label: e for e in plan.editions}
    assert by_label["All sections"].section_ids == (5, 10, 20, 30, 40)
    assert by_label["All sections"].recipients == 4
    assert by_label["Health + Finance"].section_ids == (5, 10, 30, 40)
    assert by_label["Health + Finance"].recipients == 3 + 5  # {1} and {1, 3} keep the same sections: one edition
    assert by_label["Events"].section_ids == (5, 20, 40)
    assert by_label["Finance"].section_ids == (5, 30, 40)
    assert plan.editions[0].full and plan.total == 15 and not plan.fallback


def test_choosing_every_topic_or_none_is_everything_and_unknown_topics_are_ignored():
    plan = editions.plan_editions(PLAN, ORDER, {",1,2,3,": 2, "": 1, ",99,": 1})
    assert [(e.label, e.recipients) for e in plan.editions] == [("All sections", 4)]


def test_a_topic_deleted_after_the_freeze_still_counts_one_created_after_it_does_not():
    plan = editions.plan_editions(PLAN, ORDER, {",2,7,": 1})  # 7 is not in the plan: Events only
    assert plan.editions[0].section_ids == (5, 20, 40)


def test_beyond_the_cap_everyone_gets_the_whole_issue():
    plan = editions.plan_editions(PLAN, ORDER, {",1,": 1, ",2,": 1, ",3,": 1}, cap=2)
    assert plan.fallback and [(e.label, e.recipients, e.section_ids) for e in plan.editions] == [
        ("All sections", 3, tuple(ORDER))
    ]


def test_audience_by_topic_is_one_edition():
    plan = editions.plan_editions({**PLAN, "mode": editions.TOPICS}, ORDER, {",1,": 2, ",2,": 1})
    assert [(e.label, e.recipients) for e in plan.editions] == [("All sections", 3)]


# In-process sends -----------------------------------------------------------------------------------


@pytest.fixture
def topics(newsletter):
    return {
        name: Topic.objects.create(newsletter=newsletter, name=name, slug=name.lower(), position=n)
        for n, name in enumerate(["Health", "Events", "Finance"])
    }


@pytest.fixture
def tagged_draft(make_issue, topics):
    issue = make_issue(
        "Topics week",
        status=Issue.Status.DRAFT,
        intro="Welcome.",
        sections=[
            {"heading": "Clinic news", "body_markdown": "HEALTH-BODY"},
            {"heading": "Summer fair", "kind": Section.Kind.EVENT, "body_markdown": "EVENTS-BODY"},
            {"heading": "Budget round", "body_markdown": "FINANCE-BODY"},
            {"heading": "For everyone", "body_markdown": "UNTAGGED-BODY"},
        ],
    )
    sections = {s.heading: s for s in issue.sections.all()}
    sections["Clinic news"].topics.set([topics["Health"]])
    sections["Summer fair"].topics.set([topics["Events"]])
    sections["Budget round"].topics.set([topics["Finance"]])
    return issue


def _reader(newsletter, email, chosen=()):
    person = Subscriber.objects.create(email=email)
    Subscription.objects.create(
        subscriber=person,
        newsletter=newsletter,
        status=Subscription.Status.ACTIVE,
        confirmed_at=timezone.now() - datetime.timedelta(days=1),
        topics=topic_key(t.pk for t in chosen),
    )
    return person


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(issue, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(issue, **kwargs)
        issue.refresh_from_db()
        return issue

    return run


def _received():
    return {m.to[0]: m for m in mail.outbox}


def test_audience_by_topic_sends_the_whole_issue_to_those_who_chose_one_of_them(newsletter, topics, tagged_draft, send):
    _reader(newsletter, "health@example.com", [topics["Health"]])
    _reader(newsletter, "events@example.com", [topics["Events"]])
    _reader(newsletter, "all@example.com")
    _reader(newsletter, "finance@example.com", [topics["Finance"], topics["Health"]])

    issue = send(tagged_draft, mode=editions.TOPICS, topics=[topics["Health"].pk])

    received = _received()
    assert sorted(received) == ["all@example.com", "finance@example.com", "health@example.com"]
    assert all("EVENTS-BODY" in m.body and "HEALTH-BODY" in m.body for m in received.values())
    assert issue.status == Issue.Status.SENT
    assert not IssueEdition.objects.filter(issue=issue).exists()


def test_a_personal_edition_gives_each_reader_their_sections_in_both_parts(newsletter, topics, tagged_draft, send):
    _reader(newsletter, "health@example.com", [topics["Health"]])
    _reader(newsletter, "events@example.com", [topics["Events"]])
    _reader(newsletter, "events2@example.com", [topics["Events"]])
    _reader(newsletter, "all@example.com")

    issue = send(tagged_draft, mode=editions.PERSONAL)

    received = _received()
    assert len(mail.outbox) == 4
    wanted = {
        "health@example.com": {"HEALTH-BODY"},
        "events@example.com": {"EVENTS-BODY"},
        "events2@example.com": {"EVENTS-BODY"},
        "all@example.com": {"HEALTH-BODY", "EVENTS-BODY", "FINANCE-BODY"},
    }
    for address, bodies in wanted.items():
        message = received[address]
        html = message.alternatives[0][0]
        for marker in ("HEALTH-BODY", "EVENTS-BODY", "FINANCE-BODY"):
            assert (marker in message.body) == (marker in bodies), (address, marker)
            assert (marker in html) == (marker in bodies), (address, marker)
        assert "UNTAGGED-BODY" in message.body and "UNTAGGED-BODY" in html
    # "In this issue" and the web link follow the edition
    events_html = received["events@example.com"].alternatives[0][0]
    assert "Clinic news" not in events_html and "?topics=events" in events_html
    assert "?topics=events" in received["events@example.com"].body
    assert [(e.label, e.recipients) for e in issue.editions.all()] == [
        ("All sections", 1),
        ("Events", 2),
        ("Health", 1),
    ]
    assert Delivery.objects.filter(issue=issue, edition=None).count() == 0


def test_a_retried_delivery_gets_the_same_edition(
    newsletter, topics, tagged_draft, send, django_capture_on_commit_callbacks
):
    _reader(newsletter, "events@example.com", [topics["Events"]])
    issue = send(tagged_draft, mode=editions.PERSONAL)
    delivery = Delivery.objects.get(issue=issue)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow.retry_failed(issue) == 1
    worker.send_batch(issue.pk)
    assert len(mail.outbox) == 1 and "EVENTS-BODY" in mail.outbox[0].body and "HEALTH-BODY" not in mail.outbox[0].body
    assert Delivery.objects.get(pk=delivery.pk).edition_id == delivery.edition_id


def test_a_topic_deleted_while_scheduled_is_still_used_and_the_editor_is_warned(
    newsletter, topics, tagged_draft, admin_client, django_capture_on_commit_callbacks
):
    _reader(newsletter, "events@example.com", [topics["Events"]])
    _reader(newsletter, "health@example.com", [topics["Health"]])
    workflow.schedule(tagged_draft, timezone.now() + datetime.timedelta(hours=1), mode=editions.PERSONAL)

    response = admin_client.post(
        reverse("admin:newsletter_topic_delete", args=[topics["Events"].pk]), {"post": "yes"}, follow=True
    )
    assert "as they were when it was scheduled" in response.content.decode()
    page = admin_client.get(reverse("editor:send_topics", args=[tagged_draft.pk])).content.decode()
    assert "Events was deleted after this issue was scheduled" in page

    Issue.objects.filter(pk=tagged_draft.pk).update(scheduled_for=timezone.now() - datetime.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_due_scheduled()
    received = _received()
    assert "EVENTS-BODY" in received["events@example.com"].body
    assert "HEALTH-BODY" not in received["events@example.com"].body
    assert "EVENTS-BODY" not in received["health@example.com"].body


def test_the_confirmation_states_the_count_per_edition_before_sending(newsletter, topics, tagged_draft, admin_client):
    for n in range(3):
        _reader(newsletter, f"events{n}@example.com", [topics["Events"]])
    _reader(newsletter, "all@example.com")
    url = reverse("editor:send_topics", args=[tagged_draft.pk])
    page = admin_client.get(url, {"mode": editions.PERSONAL}).content.decode()
    assert 'All sections</td><td class="edition-recipients">1<' in page
    assert 'Events</td><td class="edition-recipients">3<' in page
    assert "Yes, send to 4 subscribers" in page
    assert not mail.outbox and not Delivery.objects.exists()
    page = admin_client.get(url, {"mode": editions.TOPICS, "topics": [topics["Health"].pk]}).content.decode()
    assert "Yes, send to 1 subscriber<" in page  # only the "everything" reader chose Health
    response = admin_client.post(url, {"mode": editions.TOPICS, "topics": [topics["Health"].pk], "action": "send"})
    assert response.status_code == 302
    assert Issue.objects.get(pk=tagged_draft.pk).send_plan["selected"] == [topics["Health"].pk]


def test_the_freeze_and_planning_queries_do_not_grow_with_topics(newsletter, make_issue, topics):
    def queries(count):
        issue = make_issue(
            f"Many {count}", status=Issue.Status.DRAFT, sections=[{"heading": f"S{n}"} for n in range(4)]
        )
        extra = [
            Topic.objects.create(newsletter=newsletter, name=f"T{count}-{n}", slug=f"t{count}-{n}")
            for n in range(count)
        ]
        for n, section in enumerate(issue.sections.all()):
            section.topics.set(extra[n::4])
        for n in range(count):
            _reader(newsletter, f"r{count}-{n}@example.com", [extra[n], extra[(n + 1) % count]])
        Issue.objects.move(issue.pk, Issue.Status.DRAFT, Issue.Status.SENDING, send_started_at=timezone.now(),
                           send_plan=editions.snapshot(issue, editions.PERSONAL))  # fmt: skip
        issue.refresh_from_db()
        with CaptureQueriesContext(connection) as captured:
            worker.freeze(issue)
        assert Delivery.objects.filter(issue=issue, edition=None).count() == 0
        return len(captured)

    assert queries(4) == queries(16)


def test_topic_slugs_that_collide_with_the_sites_paths_are_refused(admin_client, newsletter):
    response = admin_client.post(
        reverse("admin:newsletter_topic_add"),
        {"newsletter": newsletter.pk, "name": "Feed", "slug": "feed", "position": 0},
    )
    assert response.status_code == 200 and "used by the site" in response.content.decode()
    assert not Topic.objects.exists()


def test_an_editions_web_link_shows_its_sections_only(client, newsletter, topics, tagged_draft, send):
    _reader(newsletter, "events@example.com", [topics["Events"]])
    issue = send(tagged_draft, mode=editions.PERSONAL)
    edition = issue.editions.get(label="Events")
    page = client.get(edition.web_url.split("8000", 1)[1]).content.decode()
    assert "EVENTS-BODY" in page and "UNTAGGED-BODY" in page and "HEALTH-BODY" not in page
    assert "Read the whole issue" in page
    whole = client.get(issue.get_absolute_url()).content.decode()
    assert "HEALTH-BODY" in whole and "Read the whole issue" not in whole
