import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from newsletter.archive import feeds

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    root = ET.fromstring(response.content)
    return root, root.findall(f"{ATOM}entry")


@pytest.mark.django_db
def test_feed_is_atom_with_the_newsletter_name(client, archive):
    response = client.get(reverse("archive:feed", args=["weekly-update"]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root, _ = entries(response)
    assert root.find(f"{ATOM}title").text == "SSRG Weekly Update"
    assert root.find(f"{ATOM}subtitle").text == "News and events for social services researchers."


@pytest.mark.django_db
def test_feed_lists_published_issues_newest_first(client, archive):
    _, items = entries(client.get(reverse("archive:feed", args=["weekly-update"])))

    assert [e.find(f"{ATOM}title").text for e in items] == [issue.title for issue in archive.published]


@pytest.mark.django_db
def test_feed_entries_link_to_the_issue_page(client, archive):
    _, items = entries(client.get(reverse("archive:feed", args=["weekly-update"])))

    link = items[0].find(f"{ATOM}link").get("href")
    assert link == "http://testserver/weekly-update/weekly-update-24-may-2011/"
    assert items[0].find(f"{ATOM}published").text.startswith("2011-05-24")


@pytest.mark.django_db
def test_feed_summary_has_intro_and_section_headings(client, archive):
    _, items = entries(client.get(reverse("archive:feed", args=["weekly-update"])))

    summary = items[0].find(f"{ATOM}summary").text
    assert "<p>Welcome to this week's update.</p>" in summary
    assert "<li>Weekly round-up</li>" in summary
    assert "Care homes" not in summary  # digest items stay on the page


@pytest.mark.django_db
def test_feed_summary_is_sanitised(client, make_issue):
    make_issue(
        "Hostile", intro="<script>alert(1)</script>[x](javascript:alert(2))", sections=[{"heading": "<b>Hi</b>"}]
    )

    summary = entries(client.get(reverse("archive:feed", args=["weekly-update"])))[1][0].find(f"{ATOM}summary").text

    assert "<script" not in summary
    assert "javascript:" not in summary
    assert "<li>&lt;b&gt;Hi&lt;/b&gt;</li>" in summary


@pytest.mark.django_db
def test_feed_leaves_out_drafts_and_scheduled_issues(client, archive):
    body = client.get(reverse("archive:feed", args=["weekly-update"])).text

    assert "Draft: next week" not in body
    assert "Scheduled: the week after" not in body


@pytest.mark.django_db
def test_feed_has_only_the_newest_issues(client, make_issue, monkeypatch):
    monkeypatch.setattr(feeds, "FEED_LENGTH", 3)
    for n in range(5):
        make_issue(f"Issue {n}", issue_date=datetime.date(2020, 1, n + 1))

    _, items = entries(client.get(reverse("archive:feed", args=["weekly-update"])))

    assert [e.find(f"{ATOM}title").text for e in items] == ["Issue 4", "Issue 3", "Issue 2"]


@pytest.mark.django_db
def test_feed_of_unknown_newsletter_is_not_found(client, archive):
    assert client.get("/no-such-newsletter/feed/").status_code == 404


@pytest.mark.django_db
def test_feed_query_count_does_not_grow_with_issues(client, make_issue, django_assert_max_num_queries):
    for n in range(15):
        make_issue(f"Issue {n}", sections=[{"heading": "A"}, {"heading": "B"}])

    with django_assert_max_num_queries(3):
        response = client.get(reverse("archive:feed", args=["weekly-update"]))

    assert len(entries(response)[1]) == 15
