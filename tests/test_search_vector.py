"""Issue 17: search reads a stored, GIN-indexed tsvector on PostgreSQL (migration 0022, kept by a trigger).

The results are the ones the former query gave, which built the vector from the text at every search (kept
here as the reference); the vector follows the title and search text whichever way they are written.
Run with DATABASE_URL=postgres://… (the tests here skip on SQLite, whose search is unchanged).
"""

import io

import pytest
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from newsletter.archive import search
from newsletter.models import Issue, Section

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# The vector the former query computed for every row at every search (the expression of migration 0002).
FORMER_VECTOR = SearchVector("title", weight="A", config="english") + SearchVector(
    "search_text", weight="B", config="english"
)


def former_results(query):
    """[(pk, snippet HTML)] as search gave them before the stored vector."""
    search_query = SearchQuery(query, search_type="websearch", config="english")
    issues = (
        Issue.objects.listed()
        .annotate(search=FORMER_VECTOR)
        .filter(search=search_query)
        .annotate(
            rank=SearchRank(FORMER_VECTOR, search_query),
            headline=SearchHeadline(
                "search_text",
                search_query,
                config="english",
                start_sel=search._START,
                stop_sel=search._STOP,
                max_words=40,
                min_words=20,
                max_fragments=2,
                fragment_delimiter=search._FRAGMENT_DELIMITER,
            ),
        )
        .order_by("-rank", F("issue_date").desc(nulls_last=True), "-created_at", "-id")[: search.MAX_RESULTS]
    )
    return [(issue.pk, str(search.add_snippets([issue], query)[0].snippet)) for issue in issues]


def current_results(query):
    results = search.search_issues(query)
    issues = search.add_snippets(list(results), query)
    assert results.count() == len(issues)
    return [(issue.pk, str(issue.snippet)) for issue in issues]


QUERIES = ["care", "social", "children", "council budgets", '"social care"', "care -children", "sausage", "zzzz"]


def test_results_are_the_former_ones_over_the_seeds_and_snippets_mark_a_match(rich_issue):
    """Snippets of one-word queries now come from an excerpt (tests/test_search_excerpt.py): the same when the
    first two matches fall in it, else its first fragment or the first place the word appears as typed."""
    call_command("import_seeds", stdout=io.StringIO(), stderr=io.StringIO())
    found = 0
    for query in QUERIES:
        current, former = current_results(query), former_results(query)
        assert [pk for pk, _ in current] == [pk for pk, _ in former], query
        assert all("<mark>" in snippet for _, snippet in current), query
        if len(search._terms(query)) > 1:
            assert current == former, query
        found += len(current)
    assert found > 40  # the seeds were imported and searched, not an empty archive


def test_a_section_changed_is_found_by_its_new_words_and_not_its_old_ones(make_issue):
    issue = make_issue("Weekly", sections=[{"heading": "Corner", "body_markdown": "About sausages."}])
    assert [i.pk for i in search.search_issues("sausages")] == [issue.pk]

    section = Section.objects.get(issue=issue)
    section.body_markdown = "About chipolatas."
    section.save()
    issue.rebuild_search_text()  # as the admin, the composer and the importer do after sections change

    assert [i.pk for i in search.search_issues("chipolatas")] == [issue.pk]
    assert list(search.search_issues("sausages")) == []


def test_the_vector_follows_the_title_whichever_way_it_is_written(make_issue):
    issue = make_issue("Budgets")

    issue.title = "Allotments"
    issue.save()
    assert [i.pk for i in search.search_issues("allotments")] == [issue.pk]  # search text still says "Budgets"

    Issue.objects.filter(pk=issue.pk).update(title="Orchards")  # a bulk UPDATE sends no signal
    assert [i.pk for i in search.search_issues("orchards")] == [issue.pk]

    copy = Issue(newsletter=issue.newsletter, title="Hedgerows", slug="hedgerows", visibility=issue.visibility)
    copy = Issue.objects.bulk_create([copy])[0]
    Issue.objects.filter(pk=copy.pk).update(status=Issue.Status.IMPORTED)
    assert [i.pk for i in search.search_issues("hedgerows")] == [copy.pk]


def test_a_title_match_still_ranks_first(make_issue):
    body = make_issue("Weekly", sections=[{"heading": "A", "body_markdown": "Allotment news and more allotment."}])
    titled = make_issue("Allotment special")

    assert [i.pk for i in search.search_issues("allotment")] == [titled.pk, body.pk]


def test_search_uses_the_gin_index_on_the_stored_vector(make_issue):
    make_issue("Budgets")
    # Without the status filter, whose own index the planner prefers on a tiny table.
    query = SearchQuery("budget", search_type="websearch", config=search.SEARCH_CONFIG)
    matching = Issue.objects.alias(search=search.SEARCH_VECTOR).filter(search=query)
    sql, params = matching.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "issue_search_vector_gin" in plan
    assert "to_tsvector" not in plan  # nothing is computed from the text at search time
