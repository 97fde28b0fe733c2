"""bench_send --topics T --choices C: the setup spreads subscribers over C distinct topic choices that make
C personal editions (the real send is measured by hand: docs/performance.md)."""

from io import StringIO

import pytest
from django.core.management import call_command

from newsletter.management.commands.bench_send import Command
from newsletter.models import Issue, Subscription
from newsletter.rendering import issue_section_ids
from newsletter.sending import editions

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("topics", "choices", "expected"), [(1, 1, 1), (4, 8, 8), (7, 64, 64)])
def test_the_setup_makes_as_many_editions_as_choices(topics, choices, expected):
    call_command("import_seeds", stdout=StringIO())
    source = Command._source(topics)
    newsletter, issue = Command()._setup(source, 200, topics, choices)

    keys = set(Subscription.objects.filter(newsletter=newsletter).values_list("topics", flat=True))
    plan = editions.snapshot(issue, editions.PERSONAL)
    planned = editions.plan_editions(plan, issue_section_ids(issue), editions.key_counts(editions.audience(issue)))

    assert len(keys) == choices
    assert len(planned.editions) == expected and not planned.fallback
    assert planned.total == 200
    Command()._cleanup(newsletter, issue)
    assert not Issue.objects.filter(pk=issue.pk).exists()
