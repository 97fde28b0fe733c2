"""An Atom feed of each newsletter's listed issues (published and public: Issue.objects.listed()).

Each entry's `published` is a date of the newsletter's own, never the moment it was imported: the issue's
date; else, for an imported post without one, the date of the nearest dated post in the same file (the
earlier one in the file when two are as near); else the issue's `created_at`. Each is at 09:00 London time.
An imported issue nobody has edited in the admin is `updated` when it was published; others when last saved.
The summary is the intro, else the first section's text shortened, then the section headings.
"""

import datetime

from django.contrib.syndication.views import Feed
from django.db.models import DateField, IntegerField, OuterRef, Prefetch, Subquery, TextField
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from newsletter.archive.plain import plain_text
from newsletter.models import Issue, Newsletter, Section

FEED_LENGTH = 20
SUMMARY_CHARS = 300


def _dated_posts_around():
    """The nearest dated posts before and after this one in the file it was imported from: their dates and
    ordinals. (Outer references only in WHERE: SQLite allows none in a subquery's ORDER BY.)"""
    dated = Issue.objects.filter(source_file=OuterRef("source_file"), issue_date__isnull=False).exclude(source_file="")
    before = dated.filter(source_ordinal__lt=OuterRef("source_ordinal")).order_by("-source_ordinal")
    after = dated.filter(source_ordinal__gt=OuterRef("source_ordinal")).order_by("source_ordinal")
    return {
        "dated_before": Subquery(before.values("issue_date")[:1], output_field=DateField()),
        "dated_before_at": Subquery(before.values("source_ordinal")[:1], output_field=IntegerField()),
        "dated_after": Subquery(after.values("issue_date")[:1], output_field=DateField()),
        "dated_after_at": Subquery(after.values("source_ordinal")[:1], output_field=IntegerField()),
    }


def _source_date(issue):
    """The date of the nearest dated post in the same file, the earlier one in the file when two are as near."""
    if not issue.source_file or issue.source_ordinal is None:
        return None
    before, after = getattr(issue, "dated_before", None), getattr(issue, "dated_after", None)
    if before and after:
        nearer_after = issue.dated_after_at - issue.source_ordinal < issue.source_ordinal - issue.dated_before_at
        return after if nearer_after else before
    return before or after


def _first_section_html():
    first = Section.objects.filter(issue=OuterRef("pk"), parent=None).exclude(body_html="").order_by("position", "id")
    return Subquery(first.values("body_html")[:1], output_field=TextField())


def published_at(issue):
    """When the issue was published, as the feed says (the module's docstring)."""
    day = issue.issue_date or _source_date(issue)
    if day:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    return issue.created_at


class NewsletterFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, slug):
        return get_object_or_404(Newsletter, slug=slug)

    def title(self, newsletter):
        return newsletter.name

    def subtitle(self, newsletter):
        return newsletter.description

    def link(self, newsletter):
        return newsletter.get_absolute_url()

    def author_name(self, newsletter):
        # RFC 4287 §4.1.1: a feed names its author (every entry inherits it).
        return " ".join(newsletter.sender_name.split()) or newsletter.name

    def items(self, newsletter):
        headings = Section.objects.filter(parent=None).order_by("position", "id").only("issue_id", "heading")
        issues = (
            newsletter.issues.listed()
            .newest_first()
            .defer("search_text", "sign_off")
            .annotate(**_dated_posts_around(), first_section_html=_first_section_html())
            .prefetch_related(Prefetch("sections", queryset=headings, to_attr="top_sections"))[:FEED_LENGTH]
        )
        for issue in issues:
            issue.newsletter = newsletter
        return issues

    def item_title(self, issue):
        return issue.title

    def item_author_name(self, issue):
        return self.author_name(issue.newsletter)

    def item_description(self, issue):
        # Sanitised intro (else the first section's text) plus the section headings; the issue is one click away.
        summary = "" if issue.intro else plain_text(issue.first_section_html, limit=SUMMARY_CHARS, paragraphs=False)
        headings = [section.heading for section in issue.top_sections if section.heading]
        return render_to_string("archive/feed_item.html", {"issue": issue, "summary": summary, "headings": headings})

    def item_pubdate(self, issue):
        return published_at(issue)

    def item_updateddate(self, issue):
        if issue.status == Issue.Status.IMPORTED and not issue.edited_in_admin:
            return published_at(issue)
        return max(issue.updated_at, published_at(issue))

    def item_categories(self, issue):
        return [issue.category] if issue.category else []
