"""Site-styled 404 and 500 pages with DEBUG off, and a favicon (issue 11)."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def boom(request):
    raise RuntimeError("a bug in a view")


# A test-only URL configuration: the site's URLs plus a view that raises (i18n_patterns may not be included).
urlpatterns = [path("boom/", boom), *site_urlpatterns]


@pytest.fixture
def client():
    """A client that gets the 500 page as a browser would, instead of the exception."""
    return Client(raise_request_exception=False)


@pytest.mark.django_db
@override_settings(DEBUG=False)
@pytest.mark.parametrize("url", ["/no/such/page/", "/no-such-newsletter/", "/no-such-newsletter/no-such-issue/"])
def test_unknown_url_gets_the_sites_404_page(client, parse_html, url):
    response = client.get(url)

    assert response.status_code == 404
    page = parse_html(response)
    assert page.find("h1").text == "Page not found"
    assert page.find("link", rel="stylesheet")  # the site's look, not Django's bare "Not Found"
    assert page.find("header").find("a", class_="site-name").attrs["href"] == "/"
    assert page.find("main").find("a", href="/"), "a link home"
    search = page.find("main").find("form", role="search")
    assert search.attrs["action"] == "/search/" and search.find("input", name="q")
    assert page.find("meta", name="robots", content="noindex")


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_a_view_that_raises_gets_the_sites_500_page_without_the_database(client, parse_html):
    """No `db` fixture: any database query while rendering the 500 page would fail the test."""
    response = client.get("/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    page = parse_html(html)
    assert page.find("h1").text == "Something went wrong"
    assert page.find("main").find("a", href="/"), "a link home"
    assert page.find("link", rel="stylesheet").attrs["href"].endswith("newsletter/archive.css")
    assert "a bug in a view" not in html
    assert "<style" not in html and " style=" not in html  # the CSP forbids inline style
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_favicon_exists_and_is_svg():
    found = finders.find("newsletter/favicon.svg")
    assert found
    with open(found) as svg:
        assert svg.read().lstrip().startswith("<svg")


@pytest.mark.django_db
def test_pages_link_the_favicon(client, parse_html):
    icon = parse_html(client.get("/")).find("link", rel="icon")
    assert icon.attrs["href"].endswith("newsletter/favicon.svg")
    assert icon.attrs["type"] == "image/svg+xml"


@override_settings(DEBUG=False, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_favicon_ico_answers():
    """Browsers ask for /favicon.ico on every site, admin pages included: it leads to the SVG icon."""
    client = Client()  # made after the override, so WhiteNoise serves from the app's static folders

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("newsletter/favicon.svg")

    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")


# Welsh: under /cy/ the error pages speak Welsh (docs/translating.md). LocaleMiddleware takes the language from
# the path's prefix, so a plain test path under /cy/ is enough for the 500 page.
urlpatterns.insert(0, path("cy/boom/", boom))


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_the_500_page_under_cy_is_welsh_and_links_the_welsh_home(client, parse_html):
    page = parse_html(client.get("/cy/boom/"))

    assert page.find("html").attrs["lang"] == "cy"
    assert page.find("h1").text == "Aeth rhywbeth o’i le"
    assert page.find("main").find("a", href="/cy/")


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_the_404_and_csrf_pages_under_cy_are_welsh(parse_html, newsletter):
    client = Client(enforce_csrf_checks=True)

    missing = parse_html(client.get("/cy/no/such/page/"))
    assert missing.find("html").attrs["lang"] == "cy" and missing.find("h1").text == "Heb ddod o hyd i’r dudalen"
    assert missing.find("main").find("form", role="search").attrs["action"] == "/cy/search/"

    response = client.post(f"/cy/contribute/{newsletter.slug}/", {"title": "A form from an old tab"})
    assert response.status_code == 403
    expired = parse_html(response)
    assert expired.find("html").attrs["lang"] == "cy" and expired.find("h1").text == "Mae’r ffurflen wedi dod i ben"
    english = parse_html(client.post(f"/contribute/{newsletter.slug}/", {"title": "x"}))
    assert english.find("h1").text == "The form has expired"
