"""Issue 17: on PostgreSQL a search snippet is made from an excerpt of the issue's text around the first place
the word appears (migration 0024's newsletter_search_headline), not by ts_headline over the whole text.

What a reader sees must not suffer: the match is marked wherever it is in the text, a word found only in
another form is still marked, the snippet opens and closes on whole words, and a query of several words
gets the snippet it got before. Run with DATABASE_URL=postgres://… (skipped on SQLite, whose snippets are Python's).
"""

import pytest
from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.urls import reverse

from newsletter.archive import search
from newsletter.models import Issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FILLER = "Parish notes and other news from the villages this week. " * 60  # 3,420 characters


def snippet_of(issue, query):
    found = [i for i in search.search_issues(query) if i.pk == issue.pk]
    assert found, f"{query!r} did not find the issue"
    return str(search.add_snippets(found, query)[0].snippet)


def whole_text_snippet(issue, query):
    """The snippet ts_headline makes from the whole text, as search did before the excerpt."""
    search_query = SearchQuery(query, search_type="websearch", config=search.SEARCH_CONFIG)
    headline = SearchHeadline(
        "search_text",
        search_query,
        config=search.SEARCH_CONFIG,
        start_sel=search._START,
        stop_sel=search._STOP,
        max_words=40,
        min_words=20,
        max_fragments=2,
        fragment_delimiter=search._FRAGMENT_DELIMITER,
    )
    found = Issue.objects.filter(pk=issue.pk).annotate(headline=headline).get()
    return str(search.add_snippets([found], query)[0].snippet)


def body(text):
    return [{"heading": "News", "body_markdown": text}]


def test_a_word_deep_in_a_long_issue_is_marked_with_the_text_around_it(make_issue):
    issue = make_issue("Weekly", sections=body(FILLER * 6 + "The allotment waiting list is open. " + FILLER))

    snippet = snippet_of(issue, "allotment")

    assert "The <mark>allotment</mark> waiting list is open." in snippet
    assert snippet == whole_text_snippet(issue, "allotment")


def test_a_word_found_only_in_another_form_is_marked(make_issue):
    # "care" appears as typed only inside "scared", far from the real match: the excerpt there marks
    # nothing, so the snippet comes from the whole text.
    issue = make_issue("Weekly", sections=body("Nobody was scared. " + FILLER * 2 + "Caring for carers matters."))

    snippet = snippet_of(issue, "care")

    assert "<mark>Caring</mark> for carers matters" in snippet
    assert snippet == whole_text_snippet(issue, "care")


def test_a_name_typed_in_lower_case_is_marked_deep_in_the_text(make_issue):
    issue = make_issue("Weekly", sections=body(FILLER * 4 + "A visit to Croydon on Friday. " + FILLER))

    snippet = snippet_of(issue, "croydon")

    assert "A visit to <mark>Croydon</mark> on Friday." in snippet
    assert snippet == whole_text_snippet(issue, "croydon")


def test_a_second_match_past_the_excerpt_leaves_the_first_fragment(make_issue):
    issue = make_issue("Weekly", sections=body("Our budgets at a glance. " + FILLER * 3 + "More on budgets below."))

    snippet = snippet_of(issue, "budgets")

    assert "Our <mark>budgets</mark> at a glance" in snippet
    assert whole_text_snippet(issue, "budgets").startswith(snippet + " … ")


def test_the_snippet_opens_and_closes_on_whole_words(make_issue):
    words = " ".join(f"word{n}" for n in range(1500))  # a long text of distinct words
    issue = make_issue("Weekly", sections=body(words.replace("word700 ", "hedgerow ")))

    snippet = snippet_of(issue, "hedgerow")
    shown = snippet.replace("<mark>", "").replace("</mark>", "").strip("… ").split()

    assert "hedgerow" in shown
    assert set(shown) <= set(words.split()) | {"hedgerow", "…"}  # no word cut in two


def test_several_words_get_the_snippet_of_the_whole_text(make_issue):
    text = "Council news. " + FILLER * 3 + "The council set its budget: the council budget rose."
    issue = make_issue("Weekly", sections=body(text))

    assert snippet_of(issue, "council budget") == whole_text_snippet(issue, "council budget")


def test_a_word_in_the_welsh_text_deep_in_an_issue_is_marked(make_issue):
    section = {"heading": "News", "body_markdown": FILLER * 4, "second_heading": "Newyddion"}
    section["second_body_markdown"] = "Mae'r rhandiroedd ar agor."
    issue = make_issue("Weekly", sections=[section])

    assert "<mark>rhandiroedd</mark>" in snippet_of(issue, "rhandiroedd")


def test_a_rare_word_ranks_the_issue_that_is_most_about_it_first(make_issue):
    once = make_issue("Weekly one", sections=body("An allotment. " + FILLER))
    most = make_issue("Weekly two", sections=body("Allotment news: allotment plots, allotment fees. " + FILLER))
    make_issue("Weekly three", sections=body(FILLER))

    assert [i.pk for i in search.search_issues("allotment")] == [most.pk, once.pk]


def test_snippets_are_made_after_the_sort_for_the_page_only(client, make_issue, settings, django_assert_num_queries):
    settings.SEARCH_PAGE_SIZE = 5
    for n in range(12):
        make_issue(f"Budget {n}", sections=body(f"The budget for year {n}."))

    with django_assert_num_queries(1) as queries:  # the page's rows, their snippets and the count
        response = client.get(reverse("archive:search"), {"q": "budget", "page": 2})

    assert response.text.count('class="snippet"') == 5
    assert "12 issues found" in response.text
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN VERBOSE " + queries.captured_queries[0]["sql"])
        plan = [row[0] for row in cursor.fetchall()]
    below_sort = plan[next(n for n, line in enumerate(plan) if "Sort" in line) :]
    assert any("newsletter_search_headline" in line for line in plan)
    assert not any("newsletter_search_headline" in line for line in below_sort)
