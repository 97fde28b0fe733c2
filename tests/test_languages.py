"""Languages (issue 16): English at today's URLs, Welsh under /cy/, hreflang alternates, a language switch,
`<html lang>` on every page, and the page cache keeping each language's page apart."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from newsletter import languages


def test_the_url_scheme_prefixes_welsh_only():
    assert languages.path_in("/search/?q=care", "cy") == "/cy/search/?q=care"
    assert languages.path_in("/cy/search/?q=care", "en-gb") == "/search/?q=care"
    assert languages.path_in("/", "cy") == "/cy/"
    assert languages.path_in("/cy/", "en-gb") == "/"
    assert languages.path_in("/cy", "en-gb") == "/"
    # A newsletter slugged "cyngor" is not Welsh.
    assert languages.split_path("/cyngor/") == ("en-gb", "/cyngor/")
    assert languages.bcp47("en-gb") == "en-GB" and languages.bcp47("cy") == "cy"
    assert languages.supported("en-US") == "en-gb" and languages.supported("CY") == "cy"
    assert languages.supported("fr") == "en-gb" and languages.supported("") == "en-gb"


@given(st.text(alphabet="abcy/-?=&", max_size=30))
def test_switching_language_and_back_returns_the_same_page(tail):
    path = "/" + tail
    welsh = languages.path_in(path, "cy")
    assert languages.split_path(welsh)[0] == "cy"
    assert languages.path_in(welsh, "en-gb") == languages.path_in(path, "en-gb")
    assert languages.path_in(languages.path_in(welsh, "en-gb"), "cy") == welsh


def test_reversing_a_public_page_in_welsh_gives_its_cy_address():
    with translation.override("cy"):
        assert reverse("archive:search") == "/cy/search/"
        assert reverse("subscriptions:subscribe") == "/cy/subscribe/"
        assert reverse("health") == "/health/"  # machine endpoints have no language
    assert reverse("archive:search") == "/search/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "lang"),
    [("/", "en-GB"), ("/cy/", "cy"), ("/search/?q=x", "en-GB"), ("/cy/search/?q=x", "cy"), ("/cy/subscribe/", "cy")],
)
def test_every_page_says_its_language(client, parse_html, url, lang):
    response = client.get(url)
    assert response.status_code == 200
    assert parse_html(response).find("html").attrs["lang"] == lang


@pytest.mark.django_db
def test_pages_carry_hreflang_alternates_and_x_default(client, parse_html, rich_issue, settings):
    path = rich_issue.get_absolute_url()
    for url in (path, "/cy" + path):
        page = parse_html(client.get(url))
        alternates = {
            link.attrs["hreflang"]: link.attrs["href"]
            for link in page.find_all("link", rel="alternate")
            if "hreflang" in link.attrs
        }
        assert alternates == {
            "en-GB": settings.SITE_URL + path,
            "cy": settings.SITE_URL + "/cy" + path,
            "x-default": settings.SITE_URL + path,
        }


@pytest.mark.django_db
def test_the_language_switch_links_the_same_page_in_the_other_language(client, parse_html, rich_issue):
    path = rich_issue.get_absolute_url()

    english = parse_html(client.get(path)).find("nav", class_="language-switch")
    to_welsh = english.find("a")
    assert to_welsh.attrs["href"] == "/cy" + path
    assert to_welsh.attrs["lang"] == "cy" and to_welsh.text == "Cymraeg"

    welsh = parse_html(client.get("/cy" + path)).find("nav", class_="language-switch")
    to_english = welsh.find("a")
    assert to_english.attrs["href"] == path
    assert to_english.attrs["lang"] == "en-GB" and to_english.text == "English"


@pytest.mark.django_db
def test_machine_endpoints_keep_their_urls_and_have_no_welsh_twin(client):
    assert client.get("/health/").status_code in (200, 503)
    assert client.get("/cy/health/").status_code == 404
    assert client.get("/cy/admin/").status_code == 404
    assert client.get("/cy/api/v1/").status_code == 404
    assert client.get("/cy/r/1.bad").status_code == 404
    assert client.get("/r/1.bad").status_code == 404  # still answered by the short-link view: unsigned


@pytest.mark.django_db
def test_an_unprefixed_page_is_english_whatever_the_browser_asks(client, parse_html):
    """English pages keep today's URLs for everyone: Accept-Language never turns them Welsh (the switch does)."""
    page = parse_html(client.get("/", HTTP_ACCEPT_LANGUAGE="cy"))
    assert page.find("html").attrs["lang"] == "en-GB"


@pytest.mark.django_db
def test_the_page_cache_serves_each_language_its_own_page(client, parse_html, rich_issue, settings):
    settings.ARCHIVE_CACHE_SECONDS = 600
    cache.clear()
    try:
        path = rich_issue.get_absolute_url()
        english = client.get(path).content
        welsh = client.get("/cy" + path).content
        # Both now come from the cache, each in its own language.
        assert parse_html(client.get(path)).find("html").attrs["lang"] == "en-GB"
        assert parse_html(client.get("/cy" + path)).find("html").attrs["lang"] == "cy"
        assert client.get(path).content == english and client.get("/cy" + path).content == welsh
        assert english != welsh
    finally:
        cache.clear()


@pytest.mark.django_db(transaction=True)
def test_a_change_renews_the_cached_page_in_every_language(client, rich_issue, settings):
    settings.ARCHIVE_CACHE_SECONDS = 600
    cache.clear()
    try:
        path = rich_issue.get_absolute_url()
        for url in (path, "/cy" + path):
            assert "Welcome to this week" in client.get(url).content.decode()
            assert "Welcome to this week" in client.get(url).content.decode()  # cached

        rich_issue.intro = "Croeso a brand new introduction."
        rich_issue.save()

        for url in (path, "/cy" + path):
            page = client.get(url).content.decode()
            assert "Croeso a brand new introduction." in page and "Welcome to this week" not in page
    finally:
        cache.clear()


@pytest.mark.django_db
def test_the_sitemap_lists_each_page_in_both_languages_with_alternates(client, rich_issue):
    xml = client.get("/sitemap.xml").text
    path = rich_issue.get_absolute_url()

    assert f"<loc>http://testserver{path}</loc>" in xml
    assert f"<loc>http://testserver/cy{path}</loc>" in xml
    assert f'hreflang="cy" href="http://testserver/cy{path}"' in xml
    assert f'hreflang="x-default" href="http://testserver{path}"' in xml


@pytest.mark.django_db
def test_a_newsletter_cannot_take_a_language_prefix_as_its_slug():
    from django.core.exceptions import ValidationError

    from newsletter.models import Newsletter

    for slug in ("cy", "en-gb"):
        with pytest.raises(ValidationError, match="used by the site's own pages"):
            Newsletter(name="Welsh news", slug=slug).full_clean()
    Newsletter(name="Cymru news", slug="cymru").full_clean()
