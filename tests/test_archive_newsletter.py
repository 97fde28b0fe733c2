import datetime

import pytest
from django.urls import reverse

from newsletter.models import Issue


def issue_titles(page):
    return [li.find("a").text for li in page.find_all("li") if li.parent.attrs.get("class") == "issue-list"]


@pytest.mark.django_db
def test_archive_lists_newest_first_with_undated_issues_last(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:newsletter", args=["weekly-update"])))

    assert issue_titles(page) == [issue.title for issue in archive.published]


@pytest.mark.django_db
def test_archive_groups_issues_under_a_heading_per_year(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:newsletter", args=["weekly-update"])))

    assert [h2.text for h2 in page.find("main").find_all("h2")] == ["2011", "2010", "Undated"]
    year_2010 = page.find("section", **{"aria-labelledby": "year-2010"})
    assert [a.text for a in year_2010.find_all("a")] == ["Weekly update 2 December 2010", "Autumn round-up"]


@pytest.mark.django_db
def test_archive_shows_month_precision_dates_without_a_day(client, archive):
    response = client.get(reverse("archive:newsletter", args=["weekly-update"]))

    assert "October 2010" in response.text
    assert "1 October 2010" not in response.text


@pytest.mark.django_db
def test_archive_leaves_out_drafts_and_scheduled_issues(client, archive):
    response = client.get(reverse("archive:newsletter", args=["weekly-update"]))

    assert "Draft: next week" not in response.text
    assert "Scheduled: the week after" not in response.text


@pytest.mark.django_db
def test_archive_is_paginated(client, archive, parse_html, settings):
    settings.ARCHIVE_PAGE_SIZE = 2
    url = reverse("archive:newsletter", args=["weekly-update"])

    first = parse_html(client.get(url))
    third = parse_html(client.get(url, {"page": 3}))

    assert issue_titles(first) == ["Weekly update 24 May 2011", "Weekly update 10 May 2011"]
    assert issue_titles(third) == ["SSRG events and Silly Sausage Corner"]
    assert first.find("a", rel="next").attrs["href"] == "?page=2"
    assert "Page 3 of 3" in third.text


@pytest.mark.django_db
def test_archive_page_past_the_end_is_not_found(client, archive):
    url = reverse("archive:newsletter", args=["weekly-update"])

    assert client.get(url, {"page": 99}).status_code == 404
    assert client.get(url, {"page": "x"}).status_code == 404


@pytest.mark.django_db
def test_archive_of_unknown_newsletter_is_not_found(client, archive):
    assert client.get("/no-such-newsletter/").status_code == 404


@pytest.mark.django_db
def test_archive_links_its_feed(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:newsletter", args=["weekly-update"])))

    alternate = page.find("link", rel="alternate", type="application/atom+xml")
    assert alternate.attrs["href"] == "/weekly-update/feed/"
    assert alternate.attrs["type"] == "application/atom+xml"


@pytest.mark.django_db
def test_archive_query_count_does_not_grow_with_issues(
    client, newsletter, make_issue, settings, parse_html, django_assert_max_num_queries
):
    settings.ARCHIVE_PAGE_SIZE = 50
    for n in range(60):
        make_issue(f"Issue {n}", issue_date=datetime.date(2000 + n // 12, n % 12 + 1, 1), tags=[f"tag {n % 5}"])

    with django_assert_max_num_queries(4):  # the newsletter, the count, the page, its topics (issue 13)
        response = client.get(reverse("archive:newsletter", args=["weekly-update"]))

    assert len(issue_titles(parse_html(response))) == 50


@pytest.mark.django_db
def test_archive_answers_a_repeat_request_with_not_modified(client, archive):
    url = reverse("archive:newsletter", args=["weekly-update"])
    first = client.get(url)

    second = client.get(url, headers={"if-none-match": first["ETag"]})

    assert second.status_code == 304
    assert second.content == b""


@pytest.mark.django_db
def test_archive_etag_changes_when_an_issue_is_published(client, archive):
    url = reverse("archive:newsletter", args=["weekly-update"])
    first = client.get(url)
    Issue.objects.filter(pk=archive.draft.pk).update(status=Issue.Status.SENT)

    second = client.get(url, headers={"if-none-match": first["ETag"]})

    assert second.status_code == 200
    assert "Draft: next week" in second.text
