"""What every archive page shares: landmarks, a skip link, one h1, headings in order, the search form."""

import itertools
from pathlib import Path

import pytest
from django.urls import reverse

PAGES = ["home", "newsletter", "issue", "tag", "search", "search_results"]


@pytest.fixture
def page_url(archive):
    return {
        "home": reverse("archive:home"),
        "newsletter": reverse("archive:newsletter", args=["weekly-update"]),
        "issue": archive.rich.get_absolute_url(),
        "tag": reverse("archive:tag", args=["events"]),
        "search": reverse("archive:search"),
        "search_results": reverse("archive:search") + "?q=dementia",
    }


def headings(page):
    return [(int(el.tag[1]), el.text) for el in page.iter() if el.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_has_header_nav_main_and_footer_landmarks(client, page_url, parse_html, name):
    page = parse_html(client.get(page_url[name]))

    body = page.find("body")
    assert [el.tag for el in body.children if el.tag in {"header", "main", "footer"}] == ["header", "main", "footer"]
    assert page.find("main").attrs["id"] == "main"
    assert len(page.find_all("main")) == 1
    assert page.find("header").find("nav").attrs["aria-label"] == "Site"


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_starts_with_a_skip_link_to_main(client, page_url, parse_html, name):
    page = parse_html(client.get(page_url[name]))

    first_link = page.find("body").find("a")
    assert first_link.attrs["href"] == "#main"
    assert first_link.text == "Skip to main content"


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_has_one_h1_and_headings_in_order(client, page_url, parse_html, name):
    page = parse_html(client.get(page_url[name]))

    levels = [level for level, _ in headings(page)]
    assert levels.count(1) == 1
    assert levels[0] == 1
    for previous, level in itertools.pairwise(levels):
        assert level <= previous + 1, headings(page)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_has_a_labelled_search_form_in_the_header(client, page_url, parse_html, name):
    page = parse_html(client.get(page_url[name]))

    form = page.find("header").find("form")
    assert form.attrs["role"] == "search"
    assert form.attrs["action"] == "/search/"
    assert form.attrs["method"] == "get"
    field = form.find("input", name="q")
    assert form.find("label", **{"for": field.attrs["id"]}).text == "Search the archive"


@pytest.mark.django_db
def test_header_links_home(client, page_url, parse_html):
    page = parse_html(client.get(page_url["issue"]))

    assert page.find("header").find("a", class_="site-name").attrs["href"] == "/"


@pytest.mark.django_db
def test_page_is_set_up_for_phones_with_our_stylesheet(client, page_url, parse_html):
    page = parse_html(client.get(page_url["home"]))

    assert page.find("meta", name="viewport").attrs["content"] == "width=device-width, initial-scale=1"
    assert page.find("link", rel="stylesheet").attrs["href"] == "/static/newsletter/archive.css"
    assert page.find("html").attrs["lang"] == "en-GB"


def test_stylesheet_is_hand_written_and_self_contained():
    from django.contrib.staticfiles import finders

    path = finders.find("newsletter/archive.css")
    css = Path(path).read_text(encoding="utf-8")
    assert "max-width: var(--measure)" in css
    assert "@media" in css
    assert "@import" not in css and "http" not in css  # no CDN
