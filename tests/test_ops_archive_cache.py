"""Archive pages come from the page cache, and an editor's change shows at once.

The tests that change content commit for real (transaction=True): the cache is
refreshed only after a commit, as in production.
"""

import socket

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from newsletter.models import Comment, Issue, Section


@pytest.mark.django_db
def test_a_second_view_of_an_issue_is_served_without_the_database_work(
    client, rich_issue, page_cache, django_assert_max_num_queries
):
    url = rich_issue.get_absolute_url()
    first = client.get(url)

    with django_assert_max_num_queries(2):  # the cache's version and page, from the database cache table
        second = client.get(url)

    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]


@pytest.mark.django_db
def test_a_cached_page_still_answers_a_conditional_get_with_304(client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    etag = client.get(url)["ETag"]
    assert client.get(url)["ETag"] == etag  # now from the cache

    response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.django_db(transaction=True)
def test_editing_an_issue_in_the_admin_shows_at_once(admin_client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    assert "Welcome to this week" in client_text(admin_client, url)

    rich_issue.intro = "A brand new introduction."
    rich_issue.save()

    page = client_text(admin_client, url)
    assert "A brand new introduction." in page
    assert "Welcome to this week" not in page


@pytest.mark.django_db(transaction=True)
def test_editing_a_section_changes_the_issue_page_and_search(client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    search = reverse("archive:search") + "?q=chipolatas"
    assert "chipolatas" not in client_text(client, url)
    assert rich_issue.title not in client_text(client, search)

    section = Section.objects.get(issue=rich_issue, heading="Silly Sausage Corner")
    with transaction.atomic():  # as the admin saves an issue with its sections
        section.body_markdown = "This week's column is about chipolatas."
        section.save()
        rich_issue.rebuild_search_text()

    assert "about chipolatas" in client_text(client, url)
    assert rich_issue.title in client_text(client, search)


@pytest.mark.django_db(transaction=True)
def test_a_comment_hidden_with_the_admin_action_disappears_at_once(client, admin_client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    assert "Thanks for sharing." in client_text(client, url)
    comment = Comment.objects.get(issue=rich_issue, body_markdown="Thanks for sharing.")

    # The admin action updates rows in bulk: no model signal, so the admin hook must catch it.
    response = admin_client.post(
        reverse("admin:newsletter_comment_changelist"), {"action": "hide", "_selected_action": [comment.pk]}
    )

    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).hidden
    assert "Thanks for sharing." not in client_text(client, url)


@pytest.mark.django_db(transaction=True)
def test_a_comment_hidden_by_saving_it_disappears_at_once(client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    assert "I agree with this!" in client_text(client, url)

    comment = Comment.objects.get(issue=rich_issue, body_markdown="I agree with this!")
    comment.hidden = True
    comment.save()

    assert "I agree with this!" not in client_text(client, url)


@pytest.mark.django_db(transaction=True)
def test_a_newly_published_issue_appears_on_the_home_page_and_its_newsletter(
    client, newsletter, make_issue, page_cache
):
    draft = make_issue("Next week's news", status=Issue.Status.DRAFT)
    assert "Next week&#x27;s news" not in client_text(client, "/")
    assert "Next week&#x27;s news" not in client_text(client, newsletter.get_absolute_url())

    assert Issue.objects.move(draft.pk, Issue.Status.DRAFT, Issue.Status.SENDING)  # on the web from now on

    assert "Next week&#x27;s news" in client_text(client, "/")
    assert "Next week&#x27;s news" in client_text(client, newsletter.get_absolute_url())


@pytest.mark.django_db
def test_pages_are_not_cached_when_the_cache_is_off(client, rich_issue, settings):
    settings.ARCHIVE_CACHE_SECONDS = 0
    cache.clear()
    url = rich_issue.get_absolute_url()
    client.get(url)

    response = client.get(url)

    assert response.status_code == 200
    assert cache.get("archive-version") is None


@pytest.mark.django_db
def test_the_archive_still_renders_when_redis_is_down(client, rich_issue, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ARCHIVE_CACHE_SECONDS = 600
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/7"}
    }

    response = client.get(rich_issue.get_absolute_url())

    assert response.status_code == 200
    assert "Silly Sausage Corner" in response.text


@pytest.mark.django_db(transaction=True)
def test_pages_are_kept_in_redis_and_refreshed_after_an_edit(client, rich_issue, settings, redis_url):
    import redis

    settings.ARCHIVE_CACHE_SECONDS = 600
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    url = rich_issue.get_absolute_url()
    client.get(url)
    keys = redis.Redis.from_url(redis_url).keys("*archive-page*")
    assert len(keys) == 1

    rich_issue.title = "Renamed in the admin"
    rich_issue.save()

    assert "Renamed in the admin" in client_text(client, url)


def client_text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.text


@pytest.mark.django_db(transaction=True)
def test_an_issue_appears_in_the_cached_archive_as_soon_as_its_sending_starts(
    client, make_issue, page_cache, fresh_celery_pools
):
    from newsletter.sending import workflow

    draft = make_issue("Out today", status=Issue.Status.DRAFT)
    archive_url = reverse("archive:newsletter", args=[draft.newsletter.slug])
    assert "Out today" not in client_text(client, archive_url)  # now cached without it

    app = fresh_celery_pools
    app.conf.task_always_eager = False  # the send is queued, not run: the issue stays "sending"
    try:
        workflow.start_send(draft)  # an UPDATE, not a save(): Issue.objects.move tells the cache itself
    finally:
        app.conf.task_always_eager = True

    assert Issue.objects.get(pk=draft.pk).status == Issue.Status.SENDING
    assert "Out today" in client_text(client, archive_url)
