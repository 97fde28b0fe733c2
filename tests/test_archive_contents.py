"""Issue 11: a contents box only when it helps, naming only headings the page shows; no lone ¶."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletter.models import Issue, Section

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
pytestmark = pytest.mark.django_db


def contents(page):
    toc = page.find("nav", class_="toc")
    return None if toc is None else [(a.text, a.attrs["href"]) for a in toc.find_all("a")]


def shown_headings(page):
    article = page.find("article")
    return [h.text for h in article.find_all("h2") + article.find_all("h3")]


def permalinks(page):
    return page.find("article").find_all("a", class_="permalink")


@pytest.fixture
def seeded():
    call_command("import_seeds", stdout=StringIO())


def page_of(client, parse_html, title):
    issue = Issue.objects.get(title=title)
    return parse_html(client.get(issue.get_absolute_url()))


def test_an_imported_post_without_headings_has_no_contents_box_and_no_lone_pilcrow(client, parse_html, seeded):
    for title in ("Words to live by", "Inspiration, and getting things done"):
        page = page_of(client, parse_html, title)
        assert contents(page) is None, title
        assert "Article" not in page.find("article").text, title
        assert permalinks(page) == [], title
        assert "¶" not in page.find("article").text, title


def test_the_ofsted_post_lists_nothing_the_page_does_not_show(client, parse_html, seeded):
    page = page_of(client, parse_html, "Digitisation, and the Children’s Services Ofsted")

    assert contents(page) is None  # two sections, neither with a heading
    text = page.find("article").text
    assert "And lastly…" not in text and "1. Article" not in text
    sections = page.find("article").find_all("section", class_="section")
    assert len(sections) == 2 and all(s.attrs["id"] for s in sections)  # the anchors stay
    assert permalinks(page) == []


def test_every_contents_entry_is_a_heading_on_the_page(client, parse_html, seeded):
    for issue in Issue.objects.published():
        page = parse_html(client.get(issue.get_absolute_url()))
        entries = contents(page) or []
        headings = shown_headings(page)
        for text, href in entries:
            assert text in headings, (issue.title, text)
            assert page.find(id=href[1:]) is not None, (issue.title, href)


def test_one_titled_section_needs_no_contents_box(client, make_issue, parse_html):
    issue = make_issue(
        "Short one",
        sections=[
            {"heading": "Library hours", "body_markdown": "Open at 8."},
            {"heading": "", "kind": Section.Kind.CLOSING, "body_markdown": "And lastly, thanks."},
        ],
    )

    page = parse_html(client.get(issue.get_absolute_url()))

    assert contents(page) is None
    assert [a.attrs["href"] for a in permalinks(page)] == ["#s1-library-hours"]


def test_two_titled_sections_get_a_contents_box_without_the_untitled_ones(client, make_issue, parse_html):
    issue = make_issue(
        "Two",
        sections=[
            {"heading": "", "body_markdown": "Opening words."},
            {"heading": "Library hours", "body_markdown": "Open at 8."},
            {"heading": "Parks", "body_markdown": "New benches."},
            {"heading": "", "kind": Section.Kind.CLOSING, "body_markdown": "And lastly, thanks."},
        ],
    )

    page = parse_html(client.get(issue.get_absolute_url()))

    assert contents(page) == [("Library hours", "#s2-library-hours"), ("Parks", "#s3-parks")]
    assert len(permalinks(page)) == 2
