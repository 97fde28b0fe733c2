import pytest
from django.urls import reverse

from newsletter.models import Tag


@pytest.mark.django_db
def test_tag_page_lists_published_issues_with_that_tag_newest_first(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:tag", args=["events"])))

    assert page.find("h1").text == "Issues tagged “Events”"
    titles = [a.text for a in page.find("main").find_all("a") if a.attrs["href"].startswith("/weekly-update/")]
    assert titles == ["Weekly update 24 May 2011", "Weekly update 10 May 2011"]
    assert "Draft: next week" not in page.text
    assert "SSRG Weekly Update" in page.find("ul", class_="issue-list").text


@pytest.mark.django_db
def test_tag_page_lists_issues_from_every_newsletter(client, archive, make_newsletter, make_issue):
    other = make_newsletter("Research Digest", slug="research-digest")
    make_issue("Digest one", newsletter=other, tags=["Events"])

    response = client.get(reverse("archive:tag", args=["events"]))

    assert "Digest one" in response.text
    assert "Research Digest" in response.text


@pytest.mark.django_db
def test_unknown_tag_is_not_found(client, archive):
    assert client.get("/tags/no-such-tag/").status_code == 404


@pytest.mark.django_db
def test_tag_used_only_by_unpublished_issues_is_not_found(client, archive):
    Tag.for_names(["Secret"])[0].issues.add(archive.draft)

    assert client.get("/tags/secret/").status_code == 404


@pytest.mark.django_db
def test_issue_page_tag_links_lead_to_tag_pages(client, rich_issue):
    response = client.get("/tags/adult-social-care/")

    assert response.status_code == 200
    assert rich_issue.get_absolute_url() in response.text
