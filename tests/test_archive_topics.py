"""Issue 13: topic pages in the archive (/<newsletter>/topics/<topic>/), their Atom feeds, the sitemap and the
page cache. A reader who only follows "Events" can browse every past event."""

import datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from newsletter.models import Issue, Section, Topic

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def topics(archive):
    """Events on the rich issue's event and the 10 May issue's section; Health on nothing published."""
    newsletter = archive.newsletter
    events = Topic.objects.create(newsletter=newsletter, name="Events", slug="events", description="What's on.")
    health = Topic.objects.create(newsletter=newsletter, name="Health", slug="health", position=1)
    rich_event = archive.rich.sections.get(kind=Section.Kind.EVENT)
    rich_event.topics.add(events)
    may = archive.published[1].sections.get()
    may.topics.add(events)
    archive.draft.sections.get().topics.add(events)  # unpublished: never listed
    archive.scheduled.sections.get().topics.add(health)
    return {"events": events, "health": health, "rich_event": rich_event, "may": may}


def topic_url(topic):
    return reverse("archive:topic", args=[topic.newsletter.slug, topic.slug])


@pytest.mark.django_db
def test_topic_page_lists_published_sections_newest_first_linking_to_the_section(client, archive, topics, parse_html):
    page = parse_html(client.get(topic_url(topics["events"])))

    assert page.find("h1").text == "Events"
    links = page.find("ul", class_="topic-sections").find_all("a")
    assert [a.text for a in links] == ["Making the Equality Framework work for you", "Dementia strategy"]
    rich_event, may = topics["rich_event"], topics["may"]
    assert links[0].attrs["href"] == f"{archive.rich.get_absolute_url()}#{rich_event.anchor}"
    assert links[1].attrs["href"] == f"{archive.published[1].get_absolute_url()}#{may.anchor}"
    assert "Secret plans" not in page.text
    assert "A series of free events with Equality Works." in page.text  # a summary
    # The anchor the link points at is on the issue page.
    issue_page = parse_html(client.get(archive.rich.get_absolute_url()))
    assert issue_page.find("section", id=rich_event.anchor) is not None


@pytest.mark.django_db
def test_topic_without_published_sections_says_so_and_unknown_topics_are_not_found(client, archive, topics):
    response = client.get(topic_url(topics["health"]))
    assert response.status_code == 200
    assert "No published sections have this topic yet." in response.text
    assert "Embargoed" not in response.text
    assert client.get("/weekly-update/topics/no-such-topic/").status_code == 404
    assert client.get("/no-such-newsletter/topics/events/").status_code == 404


@pytest.mark.django_db
def test_a_topic_of_another_newsletter_is_not_found_under_this_one(client, archive, topics, make_newsletter):
    other = make_newsletter("Research Digest", slug="research-digest")
    Topic.objects.create(newsletter=other, name="Grants", slug="grants")
    assert client.get("/weekly-update/topics/grants/").status_code == 404
    assert client.get("/research-digest/topics/grants/").status_code == 200


@pytest.mark.django_db
def test_topic_page_is_paginated(client, archive, topics, make_issue, settings, parse_html):
    settings.ARCHIVE_PAGE_SIZE = 2
    for n in range(3):
        issue = make_issue(f"Extra {n}", issue_date=datetime.date(2012, 1, 1 + n), sections=[{"heading": f"Extra {n}"}])
        issue.sections.get().topics.add(topics["events"])

    first = parse_html(client.get(topic_url(topics["events"])))
    second = parse_html(client.get(topic_url(topics["events"]) + "?page=2"))
    third = parse_html(client.get(topic_url(topics["events"]) + "?page=3"))

    headings = lambda p: [a.text for a in p.find("ul", class_="topic-sections").find_all("a")]  # noqa: E731
    assert headings(first) == ["Extra 2", "Extra 1"]
    assert headings(second) == ["Extra 0", "Making the Equality Framework work for you"]
    assert headings(third) == ["Dementia strategy"]
    assert client.get(topic_url(topics["events"]) + "?page=9").status_code == 404


@pytest.mark.django_db
def test_newsletter_page_lists_its_topics(client, archive, topics, parse_html):
    page = parse_html(client.get(reverse("archive:newsletter", args=["weekly-update"])))
    nav = page.find("nav", class_="topics")
    assert [(a.text, a.attrs["href"]) for a in nav.find_all("a")] == [
        ("Events", "/weekly-update/topics/events/"),
        ("Health", "/weekly-update/topics/health/"),
    ]


@pytest.mark.django_db
def test_topic_page_query_count_stays_flat(
    client, archive, topics, make_issue, settings, django_assert_max_num_queries
):
    for n in range(15):
        Topic.objects.create(newsletter=archive.newsletter, name=f"Topic {n}", slug=f"topic-{n}")
    extra = list(Topic.objects.filter(slug__startswith="topic-"))
    for n in range(12):
        issue = make_issue(
            f"Extra {n}",
            sections=[
                {"heading": f"Group {n}", "kind": Section.Kind.DIGEST, "items": [{"heading": "A"}, {"heading": "B"}]},
                {"heading": f"Article {n}", "body_markdown": "Text."},
            ],
        )
        for section in issue.sections.filter(parent=None):
            section.topics.add(topics["events"], *extra)

    with django_assert_max_num_queries(4):  # the topic, the count, a page of sections with issues, digest items
        response = client.get(topic_url(topics["events"]))
    assert response.status_code == 200
    assert response.text.count("<h2><a href=") == min(settings.ARCHIVE_PAGE_SIZE, 2 * 12 + 2)

    with django_assert_max_num_queries(4):
        feed = client.get(reverse("archive:topic_feed", args=["weekly-update", "events"]))
    assert feed.status_code == 200


@pytest.mark.django_db
def test_topic_feed_has_author_published_dates_and_summaries(client, archive, topics):
    archive.newsletter.sender_name = "SSRG  Office"
    archive.newsletter.save()
    cache.clear()

    parsed = feedparser.parse(client.get(reverse("archive:topic_feed", args=["weekly-update", "events"])).content)

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "SSRG Weekly Update: Events"
    assert parsed.feed.author == "SSRG Office"
    entries = {entry.title: entry for entry in parsed.entries}
    assert list(entries) == ["Making the Equality Framework work for you", "Dementia strategy"]
    event = entries["Making the Equality Framework work for you"]
    assert event.author == "SSRG Office"
    assert datetime.datetime.fromisoformat(event.published) == datetime.datetime(2011, 5, 24, 9, tzinfo=LONDON)
    assert event.summary == "A series of free events with Equality Works."
    assert event.link == f"http://testserver{archive.rich.get_absolute_url()}#{topics['rich_event'].anchor}"
    assert entries["Dementia strategy"].summary == "The national dementia strategy one year on."
    assert len({entry.id for entry in parsed.entries}) == 2


@pytest.mark.django_db
def test_topic_pages_are_in_the_sitemap_when_they_have_sections(client, archive, topics):
    xml = client.get("/sitemap.xml").text
    assert "<loc>http://testserver/weekly-update/topics/events/</loc>" in xml
    assert "/topics/health/" not in xml  # only a scheduled issue's section


@pytest.mark.django_db(transaction=True)
def test_topic_page_is_cached_and_forgets_when_sections_or_topics_change(
    client, archive, topics, page_cache, django_assert_max_num_queries
):
    url = topic_url(topics["events"])
    client.get(url)
    with django_assert_max_num_queries(2):  # from the page cache
        assert "Dementia strategy" in client.get(url).text

    with transaction.atomic():
        topics["may"].topics.remove(topics["events"])
    assert "Dementia strategy" not in client.get(url).text

    with transaction.atomic():
        topics["may"].topics.add(topics["events"])
    assert "Dementia strategy" in client.get(url).text

    with transaction.atomic():
        topics["events"].name = "What's on"
        topics["events"].save()
    assert "<h1>What&#x27;s on</h1>" in client.get(url).text

    with transaction.atomic():
        Issue.objects.filter(pk=archive.published[1].pk).update(status=Issue.Status.DRAFT)  # a bulk write…
        topics["may"].save()  # …then a section saved, as the admin does
    assert "Dementia strategy" not in client.get(url).text
