"""Topic pages: every published section a newsletter's editors gave a topic, newest issue first, and an Atom feed.

`/<newsletter>/topics/<topic>/` lists the sections with that topic across published issues (a reader who only
follows "Events" can browse every past event), each linking to its place on the issue page; its feed is
`/<newsletter>/topics/<topic>/feed/`. Only top-level sections count (a digest group carries the topic for its
items, as in personal editions). The number of queries does not depend on how many topics, issues or sections
there are: the topic, a count, one page of sections with their issues, their digest items, and (for the feed)
the issues' dates.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils.feedgenerator import Atom1Feed

from newsletter.archive.feeds import FEED_LENGTH, SUMMARY_CHARS, _dated_posts_around, published_at
from newsletter.archive.plain import plain_text
from newsletter.archive.views import _page
from newsletter.models import Issue, Section, Topic
from newsletter.pagecache import cache_archive_page


def _topic(newsletter_slug, slug):
    return get_object_or_404(Topic.objects.select_related("newsletter"), newsletter__slug=newsletter_slug, slug=slug)


def topic_sections(topic):
    """The topic's top-level sections in listed issues (Issue.listed_q): newest issue first, then in reading order."""
    items = Section.objects.filter(parent__isnull=False).order_by("position", "id").only("parent_id", "heading")
    return (
        Section.objects.filter(Issue.listed_q("issue__"), topics=topic, parent=None, issue__newsletter=topic.newsletter)
        .select_related("issue")
        .defer("issue__search_text", "issue__intro", "issue__sign_off", "issue__sent_html", "issue__sent_text")
        .prefetch_related(Prefetch("items", queryset=items, to_attr="digest_items"))
        .order_by(F("issue__issue_date").desc(nulls_last=True), "-issue__created_at", "-issue_id", "position", "id")
    )


def _summary(section):
    text = plain_text(section.body_html, limit=SUMMARY_CHARS, paragraphs=False)
    if not text and section.digest_items:
        text = "; ".join(item.heading for item in section.digest_items if item.heading)
    return text


def section_url(section):
    return f"{section.issue.get_absolute_url()}#{section.anchor}"


@cache_archive_page
def topic_detail(request, newsletter_slug, slug):
    topic = _topic(newsletter_slug, slug)
    page = _page(request, topic_sections(topic), settings.ARCHIVE_PAGE_SIZE)
    for section in page:
        section.issue.newsletter = topic.newsletter  # URLs without a query per section
        section.summary = _summary(section)
        section.url = section_url(section)
    context = {"topic": topic, "newsletter": topic.newsletter, "page_obj": page}
    return render(request, "archive/topic.html", context)


class TopicFeed(Feed):
    """The newest FEED_LENGTH sections with the topic, one entry each (published on its issue's date)."""

    feed_type = Atom1Feed

    def get_object(self, request, newsletter_slug, slug):
        return _topic(newsletter_slug, slug)

    def title(self, topic):
        return f"{topic.newsletter.name}: {topic.name}"  # names only: nothing to translate

    def subtitle(self, topic):
        return topic.description or topic.newsletter.description

    def link(self, topic):
        return topic.get_absolute_url()

    def author_name(self, topic):
        return " ".join(topic.newsletter.sender_name.split()) or topic.newsletter.name

    def items(self, topic):
        sections = list(topic_sections(topic)[:FEED_LENGTH])
        dated = Issue.objects.filter(pk__in={s.issue_id for s in sections}).annotate(**_dated_posts_around())
        issues = dated.defer("search_text", "intro", "sign_off", "sent_html", "sent_text").in_bulk()
        for section in sections:
            section.issue = issues[section.issue_id]
            section.issue.newsletter = topic.newsletter
        return sections

    def item_title(self, section):
        return section.heading or section.issue.title

    def item_link(self, section):
        return section_url(section)

    def item_guid(self, section):
        return f"{settings.SITE_URL}{section.issue.get_absolute_url()}#section-{section.pk}"

    item_guid_is_permalink = False

    def item_author_name(self, section):
        newsletter = section.issue.newsletter
        return " ".join(newsletter.sender_name.split()) or newsletter.name

    def item_description(self, section):
        return _summary(section)

    def item_pubdate(self, section):
        return published_at(section.issue)

    def item_updateddate(self, section):
        issue = section.issue
        if issue.status == Issue.Status.IMPORTED and not issue.edited_in_admin:
            return published_at(issue)
        return max(issue.updated_at, published_at(issue))
