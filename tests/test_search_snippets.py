"""Issue 11: search snippets read as text (no Markdown autolink brackets, escapes or link syntax), escaped
correctly and with <mark> kept, on SQLite and PostgreSQL (run this file with DATABASE_URL=postgres://… too)."""

import time

import pytest
from django.urls import reverse

from newsletter.archive import search

BODY = (
    "If you’d like to feed in to the workshop, please contact John at <john.jarvis@local.gov.uk> "
    "Notes will be available afterwards on [www.ssr.org.uk](http://www.ssr.org.uk) \\[sic\\] "
    "and at <http://www.example.org/notes_2011>. Fish & chips are **not** provided."
)


def snippet_of(client, parse_html, query):
    response = client.get(reverse("archive:search"), {"q": query})
    html = response.text
    return html[html.index('class="snippet"') :].split("</p>", 1)[0], parse_html(response).find("p", class_="snippet")


@pytest.fixture
def workshop(make_issue):
    return make_issue("Data sharing", sections=[{"heading": "Workshop", "body_markdown": BODY}])


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["workshop", "contact", "john"])
def test_snippet_shows_addresses_without_markdown_brackets(client, parse_html, workshop, query):
    html, snippet = snippet_of(client, parse_html, query)

    text = html.replace("<mark>", "").replace("</mark>", "")
    assert "john.jarvis@local.gov.uk" in text
    assert "<john" not in text and "local.gov.uk>" not in text
    assert "&lt;" not in html and "&gt;" not in html  # no bracket of Markdown's, escaped or not
    assert "](" not in text and "\\[" not in text and "**" not in text
    assert [m.text.lower() for m in snippet.find_all("mark")][:1] == [query]


@pytest.mark.django_db
def test_snippet_shows_a_links_text_and_unescaped_brackets(client, parse_html, workshop):
    _, snippet = snippet_of(client, parse_html, "workshop")

    assert "on www.ssr.org.uk [sic] and at http://www.example.org/notes_2011." in snippet.text


@pytest.mark.django_db
def test_snippet_text_is_escaped_once_and_only_mark_is_markup(client, parse_html, workshop):
    html, snippet = snippet_of(client, parse_html, "chips")

    assert "Fish &amp; <mark>chips</mark>" in html
    assert "&amp;amp;" not in html
    assert [m.tag for m in snippet.iter() if m is not snippet] == ["mark"]


@pytest.mark.django_db
def test_snippet_keeps_a_highlight_inside_an_address(client, parse_html, make_issue):
    make_issue("Contacts", sections=[{"heading": "Who", "body_markdown": "Write to <john.jarvis@local.gov.uk> today."}])

    _, snippet = snippet_of(client, parse_html, "john.jarvis@local.gov.uk")

    assert "Write to john.jarvis@local.gov.uk today" in snippet.text
    assert "".join(m.text for m in snippet.find_all("mark")) in ("john.jarvis@local.gov.uk", "jarvis")


def test_readable_markdown():
    assert search.readable(BODY) == (
        "If you’d like to feed in to the workshop, please contact John at john.jarvis@local.gov.uk "
        "Notes will be available afterwards on www.ssr.org.uk [sic] "
        "and at http://www.example.org/notes_2011. Fish & chips are not provided."
    )
    assert search.readable("a < b > c, snake_case, <b>bold</b>, <mailto:x@y.org>") == (
        "a < b > c, snake_case,  bold , x@y.org"
    )


def test_a_postgres_headline_cut_inside_links_reads_as_text():
    s, e = search._START, search._STOP
    headline = (
        f"jarvis@local.gov.uk> wrote {s}notes{e} on [www.ssr"
        f" … ssr.org.uk](http://www.ssr.org.uk) and <{s}john.jarvis@local.gov.uk{e}> … ssr.org.uk) then <http://www.e"
    )

    html = search._headline_to_html(headline)

    assert html == (
        "jarvis@local.gov.uk wrote <mark>notes</mark> on www.ssr"
        " … ssr.org.uk and <mark>john.jarvis@local.gov.uk</mark> …  then http://www.e"
    )


@pytest.mark.parametrize("run", ["<", "[", "\\", "<a", "[a](", "_", "<@", "\\[", "*", "\n#"])
def test_making_text_readable_takes_linear_time(run):
    def seconds(n):
        text = run * (n // len(run))
        start = time.perf_counter()
        search.readable(text)
        search._headline_to_html(text)
        return time.perf_counter() - start

    small, large = seconds(50_000), seconds(400_000)
    assert large < 1 and large < 20 * max(small, 1e-3), (small, large)
