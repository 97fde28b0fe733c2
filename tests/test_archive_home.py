import datetime

import pytest
from django.urls import reverse

from newsletter.models import Issue, Newsletter


@pytest.mark.django_db
def test_home_lists_each_newsletter_with_description_and_published_issue_count(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:home")))

    card = page.find("li", class_="newsletter-card")
    assert card.find("h2").text == "SSRG Weekly Update"
    assert card.find("a").attrs["href"] == "/weekly-update/"
    assert "News and events for social services researchers." in card.text
    # Five published issues; the draft and the scheduled one are not counted.
    assert "5 issues" in card.text


@pytest.mark.django_db
def test_home_links_to_the_latest_published_issue(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:home")))

    latest = page.find("a", href=archive.rich.get_absolute_url())
    assert latest.text == "Weekly update 24 May 2011"
    assert "Draft: next week" not in page.text


@pytest.mark.django_db
def test_home_shows_a_newsletter_with_no_issues_yet(client, make_newsletter, make_issue):
    quiet = make_newsletter("Quiet News")
    make_issue("Unsent", newsletter=quiet, status=Issue.Status.DRAFT, issue_date=datetime.date(2020, 1, 1))

    response = client.get(reverse("archive:home"))

    assert "Quiet News" in response.text
    assert "0 issues" in response.text
    assert "Unsent" not in response.text


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_newsletters(
    client, make_newsletter, make_issue, django_assert_max_num_queries
):
    for n in range(8):
        newsletter = make_newsletter(f"Bulletin {n}")
        make_issue(f"Issue {n}", newsletter=newsletter, issue_date=datetime.date(2020, 1, n + 1))

    # The rows' versions (archive/fragments.py), then the newsletters and their latest issues.
    with django_assert_max_num_queries(3):
        response = client.get(reverse("archive:home"))

    assert response.text.count('class="newsletter-card"') == Newsletter.objects.count() == 9
