"""The API's content: published issues (never drafts), drafts and sections written with the admin's validation,
contributions into the inbox, subscriber counts, the schema."""

import pytest

from newsletter.models import ApiToken, Contribution, Issue, Revision, Section, Subscriber, Subscription
from tests.api_helpers import api, editor, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer():
    user = editor()
    return api(token_for(user, ApiToken.Scope.WRITE)[1])


@pytest.fixture
def reader():
    return api(token_for(editor("reader"))[1])


def test_published_issues_are_listed_paginated_and_drafts_never(reader, make_issue):
    sent = make_issue(
        "Sent one", status=Issue.Status.SENT, sections=[{"heading": "News", "links": ["https://a.example/"]}]
    )
    make_issue("Imported one")
    draft = make_issue("A draft", status=Issue.Status.DRAFT)
    page = reader.get("/api/v1/issues/").json()
    titles = {row["title"] for row in page["results"]}
    assert page["count"] == 2 and titles == {"Sent one", "Imported one"}
    assert {"next", "previous"} <= set(page)
    one = reader.get(f"/api/v1/issues/{sent.pk}/").json()
    assert one["sections"][0]["heading"] == "News"
    assert one["sections"][0]["links"][0]["url"] == "https://a.example/"
    assert one["url"].endswith(sent.get_absolute_url())
    assert reader.get(f"/api/v1/issues/{draft.pk}/").status_code == 404
    assert reader.get("/api/v1/issues/?newsletter=nope").json()["count"] == 0


def test_a_write_creates_a_draft_and_its_sections(writer, newsletter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = writer.post(
            "/api/v1/drafts/",
            {
                "newsletter": newsletter.slug,
                "title": "Weekly update 31.05.11",
                "issue_date": "2011-05-31",
                "intro": "Hi",
            },
            format="json",
        )
    assert created.status_code == 201, created.json()
    issue = Issue.objects.get(pk=created.json()["id"])
    assert issue.status == Issue.Status.DRAFT and issue.slug == "weekly-update-310511"
    assert issue.date_precision == "day"
    group = writer.post(
        f"/api/v1/drafts/{issue.pk}/sections/", {"kind": "digest", "heading": "Digest"}, format="json"
    ).json()
    item = writer.post(
        f"/api/v1/drafts/{issue.pk}/sections/",
        {"kind": "digest_item", "parent": group["id"], "heading": "Item", "body_markdown": "**bold**"},
        format="json",
    )
    assert item.status_code == 201, item.json()
    assert "<strong>bold</strong>" in item.json()["body_html"]
    assert Section.objects.filter(issue=issue).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        changed = writer.patch(f"/api/v1/drafts/{issue.pk}/", {"subject": "This week"}, format="json")
    assert changed.status_code == 200 and changed.json()["subject"] == "This week"
    assert len(writer.get(f"/api/v1/drafts/{issue.pk}/").json()["sections"]) == 2
    assert Revision.objects.filter(issue=issue).exists()
    assert Revision.objects.filter(issue=issue).latest("id").user.username == "ed"


def test_unsafe_markdown_is_refused_with_a_json_error_naming_the_field(writer, make_issue):
    issue = make_issue("Draft", status=Issue.Status.DRAFT)
    refused = writer.post(
        f"/api/v1/drafts/{issue.pk}/sections/",
        {"heading": "Bad", "body_markdown": '<a href="javascript:alert(1)">x</a>'},
        format="json",
    )
    assert refused.status_code == 400
    body = refused.json()
    assert "body_markdown" in body["fields"] and "body_markdown" in body["error"]
    assert "javascript" in body["fields"]["body_markdown"][0]
    assert not issue.sections.exists()
    intro = writer.patch(f"/api/v1/drafts/{issue.pk}/", {"intro": "<script>x</script>"}, format="json")
    assert intro.status_code == 400 and "intro" in intro.json()["fields"]


def test_model_validation_applies_like_the_admin(writer, make_issue, newsletter):
    issue = make_issue("Draft", status=Issue.Status.DRAFT)
    article = Section.objects.create(issue=issue, heading="Article")
    nested = writer.post(
        f"/api/v1/drafts/{issue.pk}/sections/", {"kind": "digest_item", "parent": article.pk}, format="json"
    )
    assert nested.status_code == 400 and "Only a digest group holds items." in str(nested.json()["fields"])
    clash = writer.post("/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "Draft"}, format="json")
    assert clash.status_code == 400, clash.json()
    reserved = writer.post(
        "/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "x", "slug": "feed"}, format="json"
    )
    assert reserved.status_code == 400 and "slug" in reserved.json()["fields"]


def test_sent_issues_are_not_drafts_and_cannot_be_written(writer, make_issue):
    sent = make_issue("Sent", status=Issue.Status.SENT)
    assert writer.patch(f"/api/v1/drafts/{sent.pk}/", {"title": "Changed"}, format="json").status_code == 404
    assert writer.post(f"/api/v1/drafts/{sent.pk}/sections/", {"heading": "x"}, format="json").status_code == 404


def test_editing_an_approved_draft_withdraws_the_approval(writer, make_issue):
    issue = make_issue("Draft", status=Issue.Status.DRAFT)
    Issue.objects.approve(issue.pk, by=None)
    writer.post(f"/api/v1/drafts/{issue.pk}/sections/", {"heading": "New"}, format="json")
    issue.refresh_from_db()
    assert issue.approved_at is None


def test_a_contribution_is_created_in_the_inbox_and_checked_like_the_form(writer, newsletter):
    made = writer.post(
        "/api/v1/contributions/",
        {"newsletter": newsletter.slug, "title": "Seminar", "url": "https://e.example/", "summary": "On *Tuesday*"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    contribution = Contribution.objects.get()
    assert contribution.status == Contribution.Status.NEW and contribution.contact_email == "ed@example.org"
    bad = writer.post(
        "/api/v1/contributions/",
        {"newsletter": newsletter.slug, "title": "x", "summary": "<img src=x onerror=alert(1)>"},
        format="json",
    )
    assert bad.status_code == 400 and "summary" in bad.json()["fields"]


def test_subscriber_counts_per_newsletter_without_personal_data(reader, newsletter):
    for n, status in enumerate(["active", "active", "pending", "unsubscribed"]):
        subscriber = Subscriber.objects.create(email=f"p{n}@example.org")
        Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=status)
    response = reader.get("/api/v1/subscribers/counts/")
    assert response.status_code == 200
    row = response.json()[0]
    assert row["newsletter"] == newsletter.slug
    assert row["counts"] == {"pending": 1, "active": 2, "unsubscribed": 1, "bounced": 0}
    assert "example.org" not in response.content.decode()


def test_the_openapi_schema_is_served():
    schema = api().get("/api/v1/schema/")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/issues/" in paths and "/api/v1/drafts/{draft_pk}/sections/" in paths


def test_what_the_api_writes_is_in_the_issues_search_text(writer, newsletter):
    created = writer.post("/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "Weekly"}, format="json").json()
    issue = Issue.objects.get(pk=created["id"])
    section = writer.post(
        f"/api/v1/drafts/{issue.pk}/sections/",
        {"heading": "Allotments", "body_markdown": "Plots free at Brynmill"},
        format="json",
    ).json()
    issue.refresh_from_db()
    assert "Allotments" in issue.search_text and "Brynmill" in issue.search_text
    writer.patch(
        f"/api/v1/drafts/{issue.pk}/sections/{section['id']}/", {"body_markdown": "Plots at Sketty"}, format="json"
    )
    issue.refresh_from_db()
    assert "Sketty" in issue.search_text and "Brynmill" not in issue.search_text
    assert writer.delete(f"/api/v1/drafts/{issue.pk}/sections/{section['id']}/").status_code == 204
    issue.refresh_from_db()
    assert "Allotments" not in issue.search_text
