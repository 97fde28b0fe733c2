"""Issue 17: the issue and newsletter pages run a fixed, small number of queries and read none of the long text
they never show (what was mailed, the send plan, the search text: up to 400 KB each)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Section

pytestmark = pytest.mark.django_db

NEVER_SHOWN = ('"sent_html"', '"sent_text"', '"send_plan"', '"search_text"')


def big_issue(make_issue, title, n):
    sections = []
    for k in range(n):
        sections.append({"heading": f"Article {k}", "body_markdown": f"Body {k}", "links": [f"https://e.org/{k}"]})
        sections.append(
            {
                "heading": f"Round-up {k}",
                "kind": Section.Kind.DIGEST,
                "items": [{"heading": f"Item {k}.{i}", "links": [f"https://e.org/{k}/{i}"]} for i in range(3)],
            }
        )
    return make_issue(title, tags=["a", "b"], sections=sections, comments=[f"Comment {k}" for k in range(n)])


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_issue_page_queries_do_not_grow_and_skip_what_it_never_shows(client, make_issue):
    small, large = big_issue(make_issue, "Small", 2), big_issue(make_issue, "Large", 20)

    small_queries = queries_for(client, small.get_absolute_url())
    large_queries = queries_for(client, large.get_absolute_url())

    assert len(large_queries) == len(small_queries) <= 5  # issue and newsletter, tags, comments, sections, links
    for sql in large_queries:
        assert not any(column in sql for column in NEVER_SHOWN), sql


def test_the_newsletter_page_queries_do_not_grow_and_skip_what_it_never_shows(client, newsletter, make_issue):
    make_issue("First")
    few = queries_for(client, newsletter.get_absolute_url())
    for n in range(15):
        make_issue(f"Issue {n}")

    many = queries_for(client, newsletter.get_absolute_url())

    assert len(many) == len(few) <= 4
    for sql in many:
        assert not any(column in sql for column in NEVER_SHOWN), sql
