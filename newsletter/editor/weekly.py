"""The weekly rhythm: next week's draft from this week's issue."""

import datetime
import re

from django.db import transaction
from django.utils import timezone

from newsletter.importer.dates import DAY_MONTH_YEAR, NUMERIC
from newsletter.models import Issue, Section

# Sections that come back every week; their content does not.
RECURRING_KINDS = (Section.Kind.DIGEST, Section.Kind.COLUMN, Section.Kind.CLOSING)
ISSUE_NUMBER = re.compile(r"\b(?P<label>(?:No\.?|Issue|Number|#)\s*)(?P<n>\d+)\b", re.I)


def _numeric(m, new):
    """Write `new` in the same shape as the matched "24.05.11" / "12.4.11" / "22/03/2011"."""
    sep = m.group(0)[len(m["day"])]
    day = f"{new.day:02d}" if len(m["day"]) == 2 else str(new.day)
    month = f"{new.month:02d}" if len(m["month"]) == 2 else str(new.month)
    year = str(new.year) if len(m["year"]) == 4 else f"{new.year % 100:02d}"
    return f"{day}{sep}{month}{sep}{year}"


def next_title(title: str, old: datetime.date | None, new: datetime.date) -> str:
    """Continue the title's pattern: "Weekly update 24.05.11" → "Weekly update 31.05.11"."""
    m = NUMERIC.search(title)
    if m:
        return title[: m.start()] + _numeric(m, new) + title[m.end() :]
    m = DAY_MONTH_YEAR.search(title)
    if m:
        written = f"{new.day} {new.strftime('%B')} {new.year}"
        return title[: m.start()] + written + title[m.end() :]
    m = ISSUE_NUMBER.search(title)
    if m:
        return title[: m.start("n")] + str(int(m["n"]) + 1) + title[m.end("n") :]
    return f"{title} ({new.day} {new.strftime('%B %Y')})"


def latest_issue(newsletter):
    return newsletter.issues.exclude(status=Issue.Status.DRAFT).newest_first().first()


@transaction.atomic
def start_next_issue(issue: Issue) -> Issue:
    """A draft dated a week after `issue`, with its recurring sections as empty templates and its sign-off."""
    base_date = issue.issue_date or timezone.localdate()
    new_date = base_date + datetime.timedelta(days=7)
    title = next_title(issue.title, issue.issue_date, new_date)
    draft = Issue(
        newsletter=issue.newsletter,
        title=title,
        subject=next_title(issue.subject, issue.issue_date, new_date) if issue.subject else title,
        issue_date=new_date,
        date_precision=Issue.DatePrecision.DAY,
        category=issue.category,
        sign_off=issue.sign_off,
        status=Issue.Status.DRAFT,
    )
    draft.slug = draft.unique_slug(title.replace(".", " "))
    draft.save()
    draft.tags.set(issue.tags.all())
    recurring = issue.sections.filter(parent=None, kind__in=RECURRING_KINDS).order_by("position")
    for position, section in enumerate(recurring, start=1):
        # Last week's closing heading was about last week's story; the template keeps only the habit.
        heading = "And lastly…" if section.kind == Section.Kind.CLOSING else section.heading
        Section.objects.create(issue=draft, position=position, kind=section.kind, heading=heading)
    draft.rebuild_search_text()
    return draft
