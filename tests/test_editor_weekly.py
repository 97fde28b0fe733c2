"""Start next week's issue from this week's."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletter.editor.weekly import next_title, start_next_issue
from newsletter.models import Issue

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize(
    ("title", "old", "new", "expected"),
    [
        ("Weekly update 24.05.11", "2011-05-24", "2011-05-31", "Weekly update 31.05.11"),
        ("Weekly update 12.4.11", "2011-04-12", "2011-04-19", "Weekly update 19.4.11"),
        ("Weekly update 22.03.2011", "2011-03-22", "2011-03-29", "Weekly update 29.03.2011"),
        ("Weekly update 28 December 2011", "2011-12-28", "2012-01-04", "Weekly update 4 January 2012"),
        ("Bulletin No. 41", None, "2020-01-08", "Bulletin No. 42"),
    ],
)
def test_next_title_continues_the_pattern(title, old, new, expected):
    old = datetime.date.fromisoformat(old) if old else None
    assert next_title(title, old, datetime.date.fromisoformat(new)) == expected


@pytest.mark.django_db
def test_next_weeks_draft_carries_the_recurring_sections_as_empty_templates():
    call_command("import_seeds", str(SEEDS / "002_d9b6d64c7e93d693.txt"), stdout=StringIO())
    last_week = Issue.objects.get(title="Weekly update 24.05.11")
    draft = start_next_issue(last_week)
    assert draft.status == "draft"
    assert draft.title == "Weekly update 31.05.11"
    assert draft.issue_date == datetime.date(2011, 5, 31)
    assert draft.sign_off == last_week.sign_off
    assert [(s.kind, s.heading, s.body_markdown) for s in draft.sections.all()] == [
        ("digest", "BWB weekly update of government websites", ""),
        ("closing", "And lastly…", ""),
    ]
    assert draft.slug != last_week.slug
    # The imported issue itself is untouched.
    assert last_week.sections.count() == 12  # 7 sections, 5 digest items
