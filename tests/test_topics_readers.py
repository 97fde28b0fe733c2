"""Readers choose topics: the subscribe page and the preferences page; the choice is stored with the consent."""

import pytest
from django.urls import reverse

from newsletter.models import Section, Subscriber, Subscription, Topic, topic_ids
from newsletter.tokens import preferences_url


@pytest.fixture
def topics(newsletter):
    return [
        Topic.objects.create(newsletter=newsletter, name=name, slug=name.lower(), position=n)
        for n, name in enumerate(["Health", "Events", "Finance"])
    ]


def test_the_subscribe_page_lists_the_topics_all_ticked(client, topics, parse_html):
    doc = parse_html(client.get("/subscribe/"))
    boxes = doc.find_all("input", name="topics")
    assert sorted(box.attrs["value"] for box in boxes) == sorted(str(t.pk) for t in topics)
    assert all("checked" in box.attrs for box in boxes)


def _subscribe(client, newsletter, topics):
    data = {"email": "ann@example.org", "newsletters": [newsletter.slug], "topics": [str(t.pk) for t in topics]}
    return client.post("/subscribe/", data)


def test_a_chosen_subset_is_stored_with_when_and_how(client, newsletter, topics):
    assert _subscribe(client, newsletter, topics[:2]).status_code == 200
    subscription = Subscription.objects.get()
    assert topic_ids(subscription.topics) == {topics[0].pk, topics[1].pk}
    assert subscription.topics_chosen_at and subscription.topics_method == Subscription.Method.FORM


@pytest.mark.parametrize("ticked", ["all", "none"])
def test_every_topic_or_none_is_everything(client, newsletter, topics, ticked):
    _subscribe(client, newsletter, topics if ticked == "all" else [])
    assert Subscription.objects.get().topics == ""  # everything, topics added later included


def test_a_stranger_cannot_change_an_active_subscribers_topics(client, newsletter, topics):
    person = Subscriber.objects.create(email="ann@example.org")
    Subscription.objects.create(subscriber=person, newsletter=newsletter, status=Subscription.Status.ACTIVE)
    _subscribe(client, newsletter, topics[:1])
    assert Subscription.objects.get().topics == ""


def test_the_preferences_page_shows_and_changes_the_topics(client, newsletter, topics, parse_html):
    person = Subscriber.objects.create(email="ann@example.org")
    Subscription.objects.create(
        subscriber=person, newsletter=newsletter, status=Subscription.Status.ACTIVE, topics=f",{topics[1].pk},"
    )
    url = preferences_url(person.pk)
    page = client.get(url)
    ticked = {box.attrs["value"] for box in parse_html(page).find_all("input", name="topics") if "checked" in box.attrs}
    assert ticked == {str(topics[1].pk)}
    assert "Events" in page.content.decode()

    client.post(url, {"name": "", "newsletters": [newsletter.slug], "topics": [str(topics[0].pk), str(topics[2].pk)]})
    subscription = Subscription.objects.get()
    assert topic_ids(subscription.topics) == {topics[0].pk, topics[2].pk}
    assert subscription.status == Subscription.Status.ACTIVE  # no new confirmation for a change of topics
    client.post(url, {"name": "", "newsletters": [newsletter.slug]})
    assert Subscription.objects.get().topics == ""  # none ticked: everything, never nothing


def test_the_section_admin_offers_its_newsletters_topics(admin_client, rich_issue, topics, make_newsletter, parse_html):
    other = make_newsletter("Other", slug="other")
    Topic.objects.create(newsletter=other, name="Elsewhere", slug="elsewhere")
    section = rich_issue.sections.filter(parent=None).first()
    page = admin_client.get(reverse("admin:newsletter_section_change", args=[section.pk]))
    names = page.content.decode()
    assert "Health" in names and "Elsewhere" not in names
    issue_page = admin_client.get(reverse("admin:newsletter_issue_change", args=[rich_issue.pk])).content.decode()
    assert "Finance" in issue_page and "Elsewhere" not in issue_page
    assert Section.topics.field.related_model is Topic
