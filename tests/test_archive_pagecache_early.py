"""Issue 17: the page cache is served early in the middleware stack, in one cache round trip, and is still right.

A hit is one read (the version token and the page together) before sessions, language, CSRF and auth run; what
a reader gets is the page and the headers a fresh render gives. A page rendered while an edit commits is never
served after the edit; pages with a form token, cookies or a reader's own token are never stored.
"""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from newsletter import pagecache
from newsletter.models import Issue

pytestmark = pytest.mark.django_db

SHARED_HEADERS = ("ETag", "Content-Type", "Content-Language", "X-Frame-Options", "X-Content-Type-Options")


def stored(path):
    return cache.get(pagecache._page_key(RequestFactory().get(path)))


def test_a_hit_is_one_cache_read_with_the_page_and_headers_of_a_fresh_render(
    client, rich_issue, page_cache, django_assert_max_num_queries
):
    url = rich_issue.get_absolute_url()
    first = client.get(url)

    with django_assert_max_num_queries(1):  # the version and the page in one read of the cache table
        second = client.get(url)

    assert second.status_code == 200
    assert second.content == first.content
    for header in SHARED_HEADERS:
        assert second[header] == first[header], header
    assert second.has_header("Content-Security-Policy")  # added on the way out, hit or not
    assert not second.cookies


def test_a_hit_answers_if_none_match_with_304_and_head_shares_the_entry(client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    etag = client.get(url)["ETag"]

    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == etag


def test_a_page_rendered_while_an_edit_commits_is_not_served_after_the_edit(
    client, rich_issue, page_cache, monkeypatch
):
    url = rich_issue.get_absolute_url()
    storable = pagecache._storable

    def edit_commits_while_rendering(request, response):
        Issue.objects.filter(pk=rich_issue.pk).update(intro="A corrected introduction.")
        pagecache._new_version()  # what archive_changed() does when the edit commits
        return storable(request, response)

    monkeypatch.setattr(pagecache, "_storable", edit_commits_while_rendering)
    assert "Welcome to this week" in client.get(url).text  # rendered from the rows before the edit
    monkeypatch.setattr(pagecache, "_storable", storable)

    assert "A corrected introduction." in client.get(url).text


def test_each_edit_renews_the_page(client, rich_issue, page_cache):
    url = rich_issue.get_absolute_url()
    for n in range(3):
        Issue.objects.filter(pk=rich_issue.pk).update(intro=f"Edition {n} of the introduction.")
        pagecache._new_version()
        assert f"Edition {n} of the introduction." in client.get(url).text
        assert f"Edition {n} of the introduction." in client.get(url).text  # and again, from the cache


def test_a_marked_page_with_a_form_token_is_never_stored(client, page_cache, settings):
    settings.ROOT_URLCONF = "tests.pagecache_urls"

    first, second = client.get("/form/"), client.get("/form/")

    assert "csrfmiddlewaretoken" in second.text
    assert stored("/form/") is None
    assert first.cookies.get("csrftoken")


def test_pages_no_view_marked_are_never_stored(client, page_cache):
    subscribe = reverse("subscriptions:subscribe")
    assert client.get(subscribe).status_code == 200
    assert stored(subscribe) is None


def test_a_welsh_and_an_english_page_are_stored_apart(client, rich_issue, page_cache):
    english = rich_issue.get_absolute_url()
    welsh = "/cy" + english
    client.get(english), client.get(welsh)

    assert stored(english)["content"] != stored(welsh)["content"]
    assert b'<html lang="cy"' in client.get(welsh).content  # both now from the cache
    assert b'<html lang="en-GB"' in client.get(english).content


# The project's Redis backend (config/rediscache.py): one client per pool, on a real Redis --------------------

OUR_REDIS = "config.rediscache.RedisCache"


@pytest.mark.django_db(transaction=True)
def test_on_real_redis_a_hit_is_one_mget_and_an_edit_renews_the_page(
    client, rich_issue, settings, redis_url, monkeypatch
):
    import redis

    settings.ARCHIVE_CACHE_SECONDS = 600
    settings.CACHES = {"default": {"BACKEND": OUR_REDIS, "LOCATION": redis_url}}
    url = rich_issue.get_absolute_url()
    first = client.get(url)
    sent = []
    execute = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    second = client.get(url)

    assert sent == ["MGET"]  # one round trip: the version token and the page
    assert second.content == first.content

    rich_issue.title = "Renamed in the admin"
    rich_issue.save()
    assert "Renamed in the admin" in client.get(url).text


def test_our_redis_backend_shares_one_client_between_threads_and_keeps_values_apart(settings, redis_url):
    import threading

    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": OUR_REDIS, "LOCATION": redis_url}}
    cache = caches.create_connection("default")
    errors = []

    def work(n):
        for i in range(50):
            cache.set(f"thread-{n}-{i}", (n, i), 30)
            if cache.get(f"thread-{n}-{i}") != (n, i):
                errors.append((n, i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert cache.get_many([f"thread-3-{i}" for i in range(50)]) == {f"thread-3-{i}": (3, i) for i in range(50)}
    assert cache._cache.get_client() is cache._cache.get_client()  # made once, not per call


def test_our_redis_backend_down_still_renders_the_archive(client, rich_issue, settings):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ARCHIVE_CACHE_SECONDS = 600
    settings.CACHES = {"default": {"BACKEND": OUR_REDIS, "LOCATION": f"redis://127.0.0.1:{port}/7"}}

    assert client.get(rich_issue.get_absolute_url()).status_code == 200
