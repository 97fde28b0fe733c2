import datetime

import pytest
from django.urls import reverse

from newsletter.archive import search
from newsletter.models import Issue


def result_titles(page):
    return [li.find("h2").text for li in page.find("ol", class_="results").find_all("li")] if page.find("ol") else []


@pytest.mark.django_db
def test_search_finds_issues_by_words_in_their_sections(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "dementia"}))

    assert result_titles(page) == ["Weekly update 10 May 2011"]
    assert page.find("h1").text == "Search results for “dementia”"
    assert "1 issue found" in page.text


@pytest.mark.django_db
def test_search_finds_issues_by_title(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "autumn"}))

    assert result_titles(page) == ["Autumn round-up"]


@pytest.mark.django_db
def test_search_never_shows_drafts_or_scheduled_issues(client, archive, parse_html):
    # "dementia" is also in the draft and the scheduled issue.
    page = parse_html(client.get(reverse("archive:search"), {"q": "dementia news"}))

    assert "Draft: next week" not in page.text
    assert "Scheduled: the week after" not in page.text


@pytest.mark.django_db
def test_search_results_link_to_the_issue(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "snow"}))

    link = page.find("ol", class_="results").find("a")
    assert link.attrs["href"] == "/weekly-update/weekly-update-2-december-2010/"


@pytest.mark.django_db
def test_search_snippet_highlights_the_match(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "closed"}))

    snippet = page.find("p", class_="snippet")
    assert [mark.text.lower() for mark in snippet.find_all("mark")] == ["closed"]
    assert "Day centres closed by snow" in snippet.text


@pytest.mark.django_db
def test_search_snippet_escapes_markup_in_the_text(client, make_issue):
    make_issue("Hostile", sections=[{"heading": "Trap", "body_markdown": "Fish <script>alert(1)</script> & chips"}])

    html = client.get(reverse("archive:search"), {"q": "chips"}).text

    snippet = html[html.index('class="snippet"') :]
    assert "<script" not in html
    assert "&amp; <mark>chips</mark>" in snippet  # text escaped, only our <mark> is markup


@pytest.mark.django_db
def test_search_puts_title_matches_first(client, make_issue, parse_html):
    make_issue("Housing news", issue_date=datetime.date(2010, 1, 1), sections=[{"heading": "Rents"}])
    make_issue(
        "Weekly update",
        issue_date=datetime.date(2012, 1, 1),
        sections=[{"heading": "Other", "body_markdown": "A word about housing."}],
    )

    page = parse_html(client.get(reverse("archive:search"), {"q": "housing"}))

    assert result_titles(page) == ["Housing news", "Weekly update"]


@pytest.mark.django_db
def test_search_needs_every_word(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "dementia snow"}))

    assert result_titles(page) == []
    assert "No published issues match" in page.text


@pytest.mark.django_db
def test_search_leaves_out_words_after_a_minus(client, make_issue, parse_html):
    make_issue("Care homes", sections=[{"heading": "Fees", "body_markdown": "Care home fees rise."}])
    make_issue("Care at home", sections=[{"heading": "Visits", "body_markdown": "Home care visits."}])

    page = parse_html(client.get(reverse("archive:search"), {"q": "care -fees"}))

    assert result_titles(page) == ["Care at home"]


@pytest.mark.django_db
def test_empty_search_explains_what_to_do(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "   "}))

    assert page.find("h1").text == "Search the archive"
    assert page.find("ol", class_="results") is None


@pytest.mark.django_db
def test_search_keeps_the_query_in_the_search_box(client, archive, parse_html):
    page = parse_html(client.get(reverse("archive:search"), {"q": "snow"}))

    assert page.find("input", name="q").attrs["value"] == "snow"


@pytest.mark.django_db
def test_search_results_are_paginated_and_keep_the_query(client, make_issue, settings, parse_html):
    settings.SEARCH_PAGE_SIZE = 2
    for n in range(5):
        make_issue(f"Budget {n}", issue_date=datetime.date(2011, 1, n + 1))

    first = parse_html(client.get(reverse("archive:search"), {"q": "budget"}))
    last = parse_html(client.get(reverse("archive:search"), {"q": "budget", "page": 3}))

    assert result_titles(first) == ["Budget 4", "Budget 3"]
    assert first.find("a", rel="next").attrs["href"] == "?q=budget&page=2"
    assert result_titles(last) == ["Budget 0"]
    assert "5 issues found" in first.text


@pytest.mark.django_db
def test_search_results_are_limited(client, make_issue, settings, monkeypatch, parse_html):
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    for n in range(5):
        make_issue(f"Budget {n}")

    page = parse_html(client.get(reverse("archive:search"), {"q": "budget"}))

    assert len(result_titles(page)) == 3
    # How many match in all, and that only the best are shown.
    assert "5 issues found – showing the best 3; add words to narrow your search." in page.text


@pytest.mark.django_db
def test_search_query_count_does_not_grow_with_results(client, make_issue, django_assert_max_num_queries, settings):
    settings.SEARCH_PAGE_SIZE = 20
    for n in range(15):
        make_issue(f"Budget {n}")

    with django_assert_max_num_queries(2):
        response = client.get(reverse("archive:search"), {"q": "budget"})

    assert response.text.count('class="snippet"') == 15


def test_search_shows_ten_results_to_a_page_by_default(client, make_issue):
    for n in range(12):
        make_issue(f"Budget {n}")

    first = client.get(reverse("archive:search"), {"q": "budget"})
    second = client.get(reverse("archive:search"), {"q": "budget", "page": 2})

    assert first.text.count('class="snippet"') == 10 and second.text.count('class="snippet"') == 2
    assert "12 issues found" in first.text


def test_snippet_cuts_around_the_first_match_and_marks_every_match():
    text = ("word " * 100) + "the Budget <b>is</b> set; budget day " + ("more " * 100)

    html = search.snippet(text, ["budget"], length=80)

    assert html.startswith("… ")
    assert html.endswith(" …")
    assert "<mark>Budget</mark> &lt;b&gt;is&lt;/b&gt; set; <mark>budget</mark> day" in html
    assert len(html) < 200


def test_snippet_of_text_without_a_match_is_its_beginning():
    assert search.snippet("Short text", ["absent"]) == "Short text"


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_search_matches_other_forms_of_a_word(client, make_issue, parse_html):
    make_issue("Council budgets", sections=[{"heading": "Cuts", "body_markdown": "Councils are budgeting."}])

    page = parse_html(client.get(reverse("archive:search"), {"q": "budget"}))

    assert result_titles(page) == ["Council budgets"]
    assert page.find("p", class_="snippet").find("mark") is not None


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_search_understands_quoted_phrases(client, make_issue, parse_html):
    make_issue("One", sections=[{"heading": "A", "body_markdown": "Personal budgets for adult care."}])
    make_issue("Two", sections=[{"heading": "B", "body_markdown": "Budgets that are personal."}])

    page = parse_html(client.get(reverse("archive:search"), {"q": '"personal budgets"'}))

    assert result_titles(page) == ["One"]


@pytest.mark.django_db
def test_search_of_only_unpublished_issue_finds_nothing(client, make_issue, parse_html):
    make_issue("Unique zebra", status=Issue.Status.DRAFT, issue_date=datetime.date(2030, 1, 1))

    page = parse_html(client.get(reverse("archive:search"), {"q": "zebra"}))

    assert result_titles(page) == []


@pytest.mark.django_db
def test_search_pages_stop_at_the_results_it_lists(client, make_issue, settings, monkeypatch, parse_html):
    settings.SEARCH_PAGE_SIZE = 2
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    for n in range(5):
        make_issue(f"Budget {n}", issue_date=datetime.date(2011, 1, n + 1))

    second = parse_html(client.get(reverse("archive:search"), {"q": "budget", "page": 2}))
    third = client.get(reverse("archive:search"), {"q": "budget", "page": 3})

    assert result_titles(second) == ["Budget 2"]
    assert "Page 2 of 2" in second.text
    assert "5 issues found – showing the best 3" in second.text
    assert second.find("a", rel="next") is None
    assert third.status_code == 404


@pytest.mark.django_db
def test_search_page_past_the_last_or_not_a_number_is_not_found(client, make_issue):
    make_issue("Budget")

    assert client.get(reverse("archive:search"), {"q": "budget", "page": 2}).status_code == 404
    assert client.get(reverse("archive:search"), {"q": "budget", "page": "x"}).status_code == 404
    assert client.get(reverse("archive:search"), {"q": "budget", "page": 0}).status_code == 404
    assert client.get(reverse("archive:search"), {"q": "zebra", "page": 1}).status_code == 200


@pytest.mark.django_db
def test_search_finds_a_word_only_in_the_welsh_text(client, make_issue, parse_html):
    welsh = {"heading": "Parks", "body_markdown": "The parks open at eight.", "second_heading": "Parciau"}
    welsh["second_body_markdown"] = "Mae'r parciau ar agor am wyth."
    make_issue("Spring news", second_title="Newyddion y gwanwyn", sections=[welsh])
    make_issue("Autumn news", sections=[{"heading": "Parks", "body_markdown": "The parks close at six."}])

    page = parse_html(client.get(reverse("archive:search"), {"q": "parciau"}))

    assert result_titles(page) == ["Spring news"]
    assert page.find("p", class_="snippet").find("mark").text.lower() == "parciau"
