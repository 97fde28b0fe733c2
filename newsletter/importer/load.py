"""Parsed issues into the database: one transaction per file, idempotent.

Posts are keyed by (file name, post ordinal); the content hash tells an
unchanged post from a changed one. Issues an editor has saved in the admin are
never overwritten. Sections get the newsletter's topics that the seed's tags and
digest headings name (importer/topics.py), never undoing an editor's choice.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify

from newsletter.importer.topics import TopicMatcher, apply_topics, editor_choices, restore_choices
from newsletter.models import RESERVED_NEWSLETTER_SLUGS, Comment, Issue, Link, Newsletter, Section, Tag

PREHEADER_LENGTH = 150


@dataclass
class FileReport:
    name: str
    counts: Counter = field(default_factory=Counter)

    def line(self):
        total = self.total()
        parts = ", ".join(f"{self.counts[k]} {k}" for k in ("created", "unchanged", "changed", "updated", "kept"))
        tagged = self.counts["sections given topics"]
        topics = f"; {tagged} section{'s' if tagged != 1 else ''} given topics" if tagged else ""
        return f"{self.name}: {total} issue{'s' if total != 1 else ''} — {parts}{topics}"

    def total(self):
        return sum(self.counts[k] for k in ("created", "unchanged", "changed", "updated", "kept"))


def _plain(markdown_text, limit):
    text = " ".join((markdown_text or "").replace("\\", "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _preheader(parsed):
    if parsed.intro:
        return _plain(parsed.intro, PREHEADER_LENGTH)
    headings = [s.heading for s in parsed.sections if s.heading]
    if headings:
        return _plain(" · ".join(headings), PREHEADER_LENGTH)
    return _plain(parsed.sections[0].body_markdown if parsed.sections else "", PREHEADER_LENGTH)


def _newsletter(slug, meta):
    if slug in RESERVED_NEWSLETTER_SLUGS:
        raise ValueError(f"newsletter slug “{slug}” is used by the site's own pages; choose another")
    newsletter, _ = Newsletter.objects.get_or_create(
        slug=slug,
        defaults={
            "name": meta.get("newsletter_name") or slug.replace("-", " ").title(),
            "description": meta.get("newsletter_description", ""),
        },
    )
    return newsletter


def _write_sections(issue, parsed_sections):
    position = 0

    def write(parsed, parent):
        nonlocal position
        position += 1
        event = parsed.event
        section = Section.objects.create(
            issue=issue,
            parent=parent,
            position=position,
            heading=parsed.heading or "",
            kind=parsed.kind,
            body_markdown=parsed.body_markdown,
            source=parsed.source or "",
            event_date=datetime.date.fromisoformat(event.date) if event and event.date else None,
            event_time=datetime.time.fromisoformat(event.time) if event and event.time else None,
            venue=(event.venue or "") if event else "",
            fee=(event.fee or "") if event else "",
            booking=(event.booking or "") if event else "",
        )
        Link.objects.bulk_create(
            Link(section=section, position=n, url=link.url, title=link.title[:300], source=parsed.source or "")
            for n, link in enumerate(parsed.links, 1)
        )
        for child in parsed.sections:
            write(child, section)

    for parsed in parsed_sections:
        write(parsed, None)


def _fill(issue, parsed, matcher=None):
    """Write the parsed content into an issue (new, or one being refreshed), keeping editors' section topics."""
    chosen = editor_choices(issue, matcher) if issue.pk and matcher else []
    issue.title = parsed.title[:300]
    issue.subject = parsed.title[:200]
    issue.preheader = _preheader(parsed)
    issue.issue_date = datetime.date.fromisoformat(parsed.date) if parsed.date else None
    issue.date_precision = parsed.date_precision or ""
    issue.intro = parsed.intro or ""
    issue.sign_off = parsed.sign_off or ""
    issue.category = parsed.category or ""
    issue.source_hash = parsed.content_hash
    if not issue.slug:
        issue.slug = issue.unique_slug(_slug_base(parsed))
    issue.save()
    issue.sections.all().delete()
    issue.comments.all().delete()
    _write_sections(issue, parsed.sections)
    restore_choices(issue, chosen)
    Comment.objects.bulk_create(
        Comment(
            issue=issue,
            position=n,
            author=c.author or "",
            posted_on=datetime.date.fromisoformat(c.date) if c.date else None,
            body_markdown=c.body_markdown,
        )
        for n, c in enumerate(parsed.comments, 1)
    )
    issue.tags.set(Tag.for_names(parsed.tags))
    issue.rebuild_search_text()


def _slug_base(parsed):
    # "Weekly update 24.05.11" -> "weekly-update-24-05-11", not "weekly-update-240511".
    return slugify(parsed.title.replace(".", " "))[:80] or "issue"


def load_file(seed, issues, *, update=False, progress=None) -> FileReport:
    """Load one file's parsed issues in one transaction; return what happened to each."""
    report = FileReport(seed.path.name)
    with transaction.atomic():
        newsletter = _newsletter(seed.newsletter_slug, seed.meta)
        matcher = TopicMatcher(newsletter)
        existing = {
            issue.source_ordinal: issue
            for issue in Issue.objects.filter(source_file=seed.path.name).select_for_update()
        }
        for ordinal, parsed in enumerate(issues, 1):
            issue = existing.get(ordinal)
            if issue is None:
                issue = Issue(
                    newsletter=newsletter,
                    status=Issue.Status.IMPORTED,
                    source_file=seed.path.name,
                    source_ordinal=ordinal,
                )
                _fill(issue, parsed)
                report.counts["created"] += 1
            elif issue.source_hash == parsed.content_hash:
                report.counts["unchanged"] += 1
            elif not update:
                report.counts["changed"] += 1
            elif issue.edited_in_admin:
                report.counts["kept"] += 1
            else:
                _fill(issue, parsed, matcher)
                report.counts["updated"] += 1
            if issue.newsletter_id == newsletter.pk:  # topics are the newsletter's own
                report.counts["sections given topics"] += apply_topics(issue, parsed.tags, matcher)
            if progress:
                progress.update(1)
    return report
