"""Issue 17: the archive pages' parts kept per row version (newsletter/archive/fragments.py) never outlive an edit.

Each test reads a page first (so its parts are kept, on PostgreSQL), changes something through a door that sends no
signal where one exists (QuerySet.update, as bulk actions and other processes write), and reads the page again.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter import tokens
from newsletter.models import Comment, Issue, Link, Newsletter, Section, Subscriber, Tag, Topic
from newsletter.models.content import Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(make_issue):
    return make_issue(
        "Spring update",
        issue_date=datetime.date(2024, 3, 1),
        tags=["Housing"],
        sections=[
            {"heading": "Budgets", "body_markdown": "Councils expect a difficult year.", "links": ["https://e.org/a"]},
            {"heading": "Events", "body_markdown": "A conference in May."},
        ],
        comments=["A first comment.", "A second comment."],
    )


def page_text(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def test_a_sections_new_text_shows_at_once(client, issue):
    url = issue.get_absolute_url()
    assert "Councils expect a difficult year." in page_text(client, url)

    section = Section.objects.get(issue=issue, heading="Budgets")
    section.body_markdown = "Councils now expect a **good** year."
    section.save()

    text = page_text(client, url)
    assert "Councils now expect a <strong>good</strong> year." in text
    assert "difficult" not in text


def test_a_bulk_update_without_signals_shows_at_once(client, issue):
    url = issue.get_absolute_url()
    page_text(client, url)

    Section.objects.filter(issue=issue, heading="Events").update(heading="What's on")
    Link.objects.filter(section__issue=issue).update(url="https://e.org/moved", title="Moved page")
    Comment.objects.filter(issue=issue, position=1).update(hidden=True)

    text = page_text(client, url)
    assert "What&#x27;s on" in text and ">Events<" not in text
    assert 'href="https://e.org/moved"' in text and "Moved page" in text
    assert "A first comment." not in text and "A second comment." in text


def test_a_renamed_tag_and_a_removed_section_show_at_once(client, issue):
    url = issue.get_absolute_url()
    page_text(client, url)

    Tag.objects.filter(name="Housing").update(name="Homes")
    Section.objects.filter(issue=issue, heading="Events").delete()

    text = page_text(client, url)
    assert ">Homes<" in text and ">Housing<" not in text
    assert "A conference in May." not in text


def test_the_issues_own_fields_and_its_newsletters_name_show_at_once(client, issue):
    url = issue.get_absolute_url()
    page_text(client, url)

    Issue.objects.filter(pk=issue.pk).update(title="Spring update, corrected")
    Newsletter.objects.filter(pk=issue.newsletter_id).update(name="Research Weekly")

    text = page_text(client, url)
    assert '<h1 id="issue-title">Spring update, corrected</h1>' in text
    assert '<p class="kicker">Research Weekly</p>' in text


def test_an_issue_made_unlisted_is_marked_noindex_at_once(client, issue):
    url = issue.get_absolute_url()
    assert 'content="noindex"' not in page_text(client, url)

    Issue.objects.filter(pk=issue.pk).update(visibility=Visibility.UNLISTED)

    response = client.get(url)
    assert '<meta name="robots" content="noindex">' in response.text
    assert response["X-Robots-Tag"] == "noindex"


def test_an_issue_made_subscribers_only_is_refused_at_once(client, issue):
    url = issue.get_absolute_url()
    page_text(client, url)

    Issue.objects.filter(pk=issue.pk).update(visibility=Visibility.SUBSCRIBERS)

    response = client.get(url)
    assert response.status_code == 403
    assert "Councils expect" not in response.text


def test_each_reader_of_a_subscribers_only_issue_gets_links_with_their_own_token(client, issue):
    sent = timezone.now() - datetime.timedelta(days=2)
    Issue.objects.filter(pk=issue.pk).update(visibility=Visibility.SUBSCRIBERS, status=Issue.Status.SENT, sent_at=sent)
    first, second = (Subscriber.objects.create(email=f"reader{n}@example.org") for n in (1, 2))
    url = issue.get_absolute_url()

    for reader in (first, second, first):
        token = tokens.reader_token(reader.pk, issue.pk)
        text = page_text(client, f"{url}?token={token}")
        assert f"changes/?token={token}" in text  # "what changed": the issue was corrected after it was sent


def test_a_personal_editions_page_shows_only_its_sections_after_the_whole_issue_was_read(client, issue):
    events = Topic.objects.create(newsletter=issue.newsletter, name="Events", slug="events")
    Section.objects.get(issue=issue, heading="Budgets").topics.add(
        Topic.objects.create(newsletter=issue.newsletter, name="Money", slug="money")
    )
    Section.objects.get(issue=issue, heading="Events").topics.add(events)
    assert "Councils expect" in page_text(client, issue.get_absolute_url())

    edition = page_text(client, f"{issue.get_absolute_url()}?topics=events")

    assert "A conference in May." in edition and "Councils expect" not in edition


def test_a_personal_editions_page_follows_its_sections_topics_at_once(client, issue):
    events = Topic.objects.create(newsletter=issue.newsletter, name="Events", slug="events")
    money = Topic.objects.create(newsletter=issue.newsletter, name="Money", slug="money")
    budgets = Section.objects.get(issue=issue, heading="Budgets")
    budgets.topics.add(money)
    Section.objects.get(issue=issue, heading="Events").topics.add(events)
    url = f"{issue.get_absolute_url()}?topics=events"
    assert "Councils expect" not in page_text(client, url)

    budgets.topics.remove(money)  # untagged: in every edition
    Topic.objects.filter(pk=events.pk).update(name="What's on")

    edition = page_text(client, url)
    assert "Councils expect" in edition
    assert "The sections for What&#x27;s on, as mailed." in edition


def test_the_welsh_and_english_pages_each_show_their_own_text(client, make_newsletter, make_issue):
    bilingual = make_newsletter("Bulletin", second_language="cy")
    issue = make_issue("Spring", newsletter=bilingual, second_title="Gwanwyn", sections=[{"heading": "News"}])
    english, welsh = issue.get_absolute_url(), f"/cy{issue.get_absolute_url()}"
    assert '<h1 id="issue-title">Spring</h1>' in page_text(client, english)
    assert '<h1 id="issue-title">Gwanwyn</h1>' in page_text(client, welsh)

    Section.objects.filter(issue=issue).update(second_heading="Newyddion")

    assert ">Newyddion<" in page_text(client, welsh)
    assert ">Newyddion<" not in page_text(client, english)
    assert ">News<" in page_text(client, english)


def test_the_newsletter_page_shows_a_new_issue_and_drops_an_unlisted_one_at_once(client, newsletter, make_issue):
    old = make_issue("Old news", issue_date=datetime.date(2024, 1, 1))
    url = newsletter.get_absolute_url()
    assert "Old news" in page_text(client, url)

    make_issue("Fresh news", issue_date=datetime.date(2024, 2, 1))
    Issue.objects.filter(pk=old.pk).update(visibility=Visibility.UNLISTED)

    text = page_text(client, url)
    assert "Fresh news" in text and "Old news" not in text


def test_the_home_page_shows_a_new_issue_and_a_renamed_newsletter_at_once(client, newsletter, make_issue):
    make_issue("Old news", issue_date=datetime.date(2024, 1, 1))
    assert "Old news" in page_text(client, reverse("archive:home"))

    make_issue("Fresh news", issue_date=datetime.date(2024, 2, 1))
    Newsletter.objects.filter(pk=newsletter.pk).update(name="Research Weekly")

    text = page_text(client, reverse("archive:home"))
    assert "Fresh news" in text and "2 issues" in text and "Research Weekly" in text


@pytest.mark.postgres
def test_a_subscribers_only_page_is_kept_for_every_reader_on_postgresql(client, issue):
    """Each reader's page is the kept part with their own token in it: the issue's query and the reader's."""
    Issue.objects.filter(pk=issue.pk).update(visibility=Visibility.SUBSCRIBERS)
    first, second = (Subscriber.objects.create(email=f"reader{n}@example.org") for n in (1, 2))
    page_text(client, f"{issue.get_absolute_url()}?token={tokens.reader_token(first.pk, issue.pk)}")

    with CaptureQueriesContext(connection) as queries:
        page_text(client, f"{issue.get_absolute_url()}?token={tokens.reader_token(second.pk, issue.pk)}")

    assert len(queries.captured_queries) == 2


@pytest.mark.postgres
def test_an_unchanged_page_is_one_query_on_postgresql(client, issue):
    """What the row versions buy: the second reading of each page runs only the query that loads its row."""
    for url in (issue.get_absolute_url(), issue.newsletter.get_absolute_url(), reverse("archive:home")):
        first = page_text(client, url)
        with CaptureQueriesContext(connection) as queries:
            again = page_text(client, url)
        assert again == first
        assert len(queries.captured_queries) == 1, url
