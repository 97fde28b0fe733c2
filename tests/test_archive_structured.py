"""An issue page's description, Open Graph and Twitter card tags, and its JSON-LD: a NewsArticle and an Event per
event section, checked against the properties Google's structured-data documentation requires or recommends
(Article: headline, datePublished, dateModified, author.name, publisher; Event: name, startDate, location with
name and address), with editors' text unable to break out of the <script> element."""

import datetime
import json

import pytest
from django.conf import settings

from newsletter.models import Issue, Section

pytestmark = pytest.mark.django_db


def json_ld(page):
    scripts = page.find_all("script", type="application/ld+json")
    assert len(scripts) == 1
    return json.loads(scripts[0].text)


def meta(page, **attrs):
    element = page.find("meta", **attrs)
    return element.attrs["content"] if element else None


def iso(value):
    return datetime.datetime.fromisoformat(value)


def test_the_issue_page_describes_itself_for_search_and_link_previews(client, rich_issue, parse_html):
    rich_issue.preheader = "Councils brace for a difficult year"
    rich_issue.save()
    url = f"{settings.SITE_URL}{rich_issue.get_absolute_url()}"

    page = parse_html(client.get(rich_issue.get_absolute_url()))

    assert meta(page, name="description") == "Councils brace for a difficult year"
    assert page.find("link", rel="canonical").attrs["href"] == url
    assert meta(page, property="og:type") == "article"
    assert meta(page, property="og:title") == "Weekly update 24 May 2011"
    assert meta(page, property="og:url") == url
    assert meta(page, property="og:description") == "Councils brace for a difficult year"
    assert meta(page, property="og:site_name") == "SSRG Weekly Update"
    assert iso(meta(page, property="article:published_time")).date() == datetime.date(2011, 5, 24)
    assert meta(page, name="twitter:card") == "summary"
    assert meta(page, name="twitter:title") == "Weekly update 24 May 2011"
    assert meta(page, name="twitter:description") == "Councils brace for a difficult year"


def test_without_a_preheader_the_intro_describes_it(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))
    assert meta(page, name="description") == "Welcome to this week's update."


def test_the_json_ld_has_a_news_article_and_an_event_with_their_required_properties(client, rich_issue, parse_html):
    url = f"{settings.SITE_URL}{rich_issue.get_absolute_url()}"

    article, *events = json_ld(parse_html(client.get(rich_issue.get_absolute_url())))

    assert article["@context"] == "https://schema.org" and article["@type"] == "NewsArticle"
    assert article["headline"] == "Weekly update 24 May 2011"
    assert iso(article["datePublished"]).date() == datetime.date(2011, 5, 24)
    assert iso(article["dateModified"]) >= iso(article["datePublished"])
    assert article["author"]["name"] and article["publisher"]["name"] == "SSRG Weekly Update"
    assert article["url"] == url and article["description"] == "Welcome to this week's update."
    assert article["isAccessibleForFree"] is True
    [event] = events
    assert event["@type"] == "Event" and event["name"] == "Making the Equality Framework work for you"
    assert iso(event["startDate"]) == datetime.datetime(
        2011, 6, 21, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )  # 10:30 in London, summer time
    assert event["location"] == {
        "@type": "Place",
        "name": "Herefordshire Racecourse, Hereford, HR4 9QU",
        "address": "Herefordshire Racecourse, Hereford, HR4 9QU",
    }
    section = rich_issue.sections.get(kind=Section.Kind.EVENT)
    assert event["url"] == f"{url}#{section.anchor}"


def test_an_event_without_a_place_or_a_date_is_not_marked_up(client, make_issue, parse_html):
    issue = make_issue(
        "Dates",
        sections=[
            {"heading": "Somewhere", "kind": Section.Kind.EVENT, "event_date": datetime.date(2024, 5, 1)},
            {"heading": "Sometime", "kind": Section.Kind.EVENT, "venue": "The town hall"},
            {
                "heading": "All day",
                "kind": Section.Kind.EVENT,
                "event_date": datetime.date(2024, 5, 2),
                "venue": "Hall",
            },
        ],
    )
    _, *events = json_ld(parse_html(client.get(issue.get_absolute_url())))
    assert [(e["name"], e["startDate"]) for e in events] == [("All day", "2024-05-02")]


def test_an_editors_text_cannot_break_out_of_the_json_ld(client, make_issue, parse_html):
    hostile = 'Fun </script><script>alert("x")</script> & <!-- games'
    issue = make_issue(
        hostile,
        preheader=hostile,
        sections=[
            {"heading": hostile, "kind": Section.Kind.EVENT, "event_date": datetime.date(2024, 5, 1), "venue": hostile}
        ],
    )
    response = client.get(issue.get_absolute_url())
    page = parse_html(response)

    article, event = json_ld(page)  # still one element, still JSON
    assert article["headline"] == article["description"] == event["name"] == event["location"]["name"] == hostile
    assert not [
        s for s in page.find_all("script") if "alert" in s.text and s.attrs.get("type") != "application/ld+json"
    ]
    assert '<script>alert("x")' not in response.content.decode()


def test_a_subscribers_only_issue_opened_by_its_token_says_it_is_not_free(client, make_issue, parse_html):
    from newsletter import tokens
    from newsletter.models import Subscriber

    issue = make_issue("Members", visibility=Issue.Visibility.SUBSCRIBERS)
    reader = Subscriber.objects.create(email="reader@example.org")
    response = client.get(issue.get_absolute_url(), {"token": tokens.reader_token(reader.pk, issue.pk)})

    [article] = json_ld(parse_html(response))
    assert article["isAccessibleForFree"] is False
