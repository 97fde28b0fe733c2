"""A post far longer than PostgreSQL's tsvector limit (1 MB) still saves and is found by its opening words."""

import base64
import random

from newsletter.archive.search import search_issues
from newsletter.models.content import SEARCH_TEXT_LIMIT


def test_an_issue_with_a_megabyte_of_distinct_words_saves_and_is_searchable(make_issue):
    noise = base64.b64encode(random.Random(7).randbytes(800_000)).decode()  # ~1 MiB of distinct "words"
    issue = make_issue(
        "Council weekly",
        intro="Safeguarding partnership news",
        sections=[
            {"heading": "Attachment", "body_markdown": " ".join(noise[i : i + 12] for i in range(0, len(noise), 12))}
        ],
    )

    issue.rebuild_search_text()

    issue.refresh_from_db()
    assert len(issue.search_text) == SEARCH_TEXT_LIMIT
    assert [found.pk for found in search_issues("safeguarding")] == [issue.pk]
