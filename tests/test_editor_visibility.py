"""An editor chooses who can read an issue: in the admin (new issues take the newsletter's default; a sent issue can
still change) and in the composer; the change shows in the archive at once."""

import json

import pytest
from django.urls import reverse

from newsletter.models import Issue
from tests.test_editor_admin import form_data
from tests.test_editor_review import login

V = Issue.Visibility


@pytest.mark.django_db
def test_the_add_form_offers_the_newsletters_default_and_the_issue_takes_it(editor_client, newsletter):
    newsletter.default_visibility = V.SUBSCRIBERS
    newsletter.save()
    add = reverse("admin:newsletter_issue_add")
    form = editor_client.get(add).context["adminform"].form
    assert form.fields["visibility"].choices[0] == ("", "The newsletter's default")

    data = {**form_data(editor_client.get(add)), "newsletter": newsletter.pk, "title": "New", "slug": "new"}
    data["visibility"] = ""
    response = editor_client.post(add, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Issue.objects.get(slug="new").visibility == V.SUBSCRIBERS


@pytest.mark.django_db
def test_the_issue_list_shows_and_filters_by_visibility(editor_client, make_issue):
    make_issue("Open book", visibility=V.PUBLIC)
    make_issue("Closed book", visibility=V.SUBSCRIBERS)

    page = editor_client.get(reverse("admin:newsletter_issue_changelist"), {"visibility__exact": "subscribers"})

    text = page.content.decode()
    assert "Closed book" in text and "Open book" not in text
    assert "Subscribers only" in text


@pytest.mark.django_db(transaction=True)
def test_a_sent_issue_made_unlisted_in_the_admin_leaves_the_cached_archive_at_once(
    editor_client, client, make_issue, newsletter, page_cache
):
    issue = make_issue("Sent and listed", status=Issue.Status.SENT)
    listing = newsletter.get_absolute_url()
    assert "Sent and listed" in client.get(listing).content.decode()
    assert "Sent and listed" in client.get(listing).content.decode()  # from the cache

    url = reverse("admin:newsletter_issue_change", args=[issue.pk])
    data = {**form_data(editor_client.get(url)), "visibility": "unlisted"}
    assert editor_client.post(url, data).status_code == 302

    assert Issue.objects.get(pk=issue.pk).visibility == V.UNLISTED
    assert "Sent and listed" not in client.get(listing).content.decode()
    assert client.get(issue.get_absolute_url())["X-Robots-Tag"] == "noindex"


@pytest.mark.django_db
def test_the_composer_saves_the_visibility_and_refuses_a_value_it_does_not_know(client, make_issue):
    login(client, "composer")
    draft = make_issue("Draft", status=Issue.Status.DRAFT)
    address = reverse("editor:compose_issue", args=[draft.pk])
    data = client.get(reverse("editor:compose_data", args=[draft.pk])).json()
    assert data["visibility"] == "public"
    page = client.get(reverse("editor:compose", args=[draft.pk])).content.decode()
    assert '<option value="subscribers">Subscribers only</option>' in page

    wrong = client.post(address, json.dumps({"visibility": "secret", "version": data["version"]}), "application/json")
    saved = client.post(
        address, json.dumps({"visibility": "subscribers", "version": data["version"]}), "application/json"
    )

    assert wrong.status_code == 400 and "visibility" in wrong.json()["errors"]
    assert saved.status_code == 200 and saved.json()["fields"]["visibility"] == "subscribers"
    assert Issue.objects.get(pk=draft.pk).visibility == V.SUBSCRIBERS


@pytest.mark.django_db
def test_imported_issues_follow_their_newsletters_default_and_an_update_keeps_what_an_editor_chose(tmp_path):
    from newsletter.models import Newsletter
    from tests.test_import_seeds import copy_seed, run

    path = copy_seed(tmp_path)
    Newsletter.objects.create(name="Community Budgets", slug="community-budgets", default_visibility=V.UNLISTED)
    run(path)
    issues = Issue.objects.filter(source_file=path.name)
    assert issues.count() == 10 and set(issues.values_list("visibility", flat=True)) == {V.UNLISTED}
    chosen = issues.get(title="Weekly update 24.05.11")
    chosen.visibility = V.PUBLIC
    chosen.save()

    path.write_text(path.read_text().replace("app-solutely fabulous", "app-solutely great"))
    out, _ = run(path, "--update")

    assert "1 updated" in out
    assert Issue.objects.get(pk=chosen.pk).visibility == V.PUBLIC


@pytest.mark.django_db
def test_a_copy_into_a_draft_starts_with_the_newsletters_default(rich_issue, newsletter):
    rich_issue.visibility = V.UNLISTED
    rich_issue.save()
    newsletter.default_visibility = V.SUBSCRIBERS
    newsletter.save()

    assert rich_issue.copy_as_draft().visibility == V.SUBSCRIBERS


@pytest.mark.django_db
def test_an_editor_reads_a_subscribers_only_page_without_a_token_and_nobody_else_does(editor_client, make_issue):
    from django.test import Client

    issue = make_issue("Members only", status=Issue.Status.SENT, intro="Private words.", visibility=V.SUBSCRIBERS)

    editor_view = editor_client.get(issue.get_absolute_url())
    anyone = Client().get(issue.get_absolute_url())

    assert editor_view.status_code == 200 and "Private words." in editor_view.content.decode()
    assert editor_view["Cache-Control"] == "private, no-store"
    assert anyone.status_code == 403 and "Private words." not in anyone.content.decode()
