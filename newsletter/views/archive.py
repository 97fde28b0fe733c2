"""The public archive: newsletters, their published issues, tags and search. No login.

Conditional GET comes from ConditionalGetMiddleware (settings): it sets an ETag
hashed from the rendered page and answers If-None-Match with 304. We do not
derive Last-Modified from Issue.updated_at because sections and comments have
no timestamp of their own, so hiding a comment would not change it and a
reader could be served a stale page.

Pages are kept in the page cache (newsletter/cache.py), which forgets them all when
an issue, its sections or comments change; a cached page keeps its ETag, so
conditional GET works the same on a hit.
"""

import html

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from newsletter.cache import cache_archive_page
from newsletter.models import Comment, Issue, Newsletter, Section, Tag
from newsletter.search import MAX_RESULTS, add_snippets, search_issues

# Long text that lists of issues never show.
LIST_DEFERRED = ("search_text", "intro", "sign_off")
# Contents-list labels for sections without a heading.
UNTITLED_LABELS = {Section.Kind.CLOSING: "And lastly…", Section.Kind.ARTICLE: "Article"}


@cache_archive_page
def home(request):
    latest = Issue.objects.published().filter(newsletter=OuterRef("pk")).newest_first().values("pk")[:1]
    newsletters = list(
        Newsletter.objects.annotate(
            issue_count=Count("issues", filter=Q(issues__status__in=Issue.PUBLISHED_STATUSES)),
            latest_issue_id=Subquery(latest),
        )
    )
    latest_ids = [n.latest_issue_id for n in newsletters if n.latest_issue_id]
    latest_issues = Issue.objects.defer(*LIST_DEFERRED).in_bulk(latest_ids)
    for newsletter in newsletters:
        newsletter.latest_issue = latest_issues.get(newsletter.latest_issue_id)
        if newsletter.latest_issue:
            newsletter.latest_issue.newsletter = newsletter  # for its URL, without a query
    return render(request, "archive/home.html", {"newsletters": newsletters})


@cache_archive_page
def newsletter_archive(request, slug):
    newsletter = get_object_or_404(Newsletter, slug=slug)
    issues = newsletter.issues.published().newest_first().defer(*LIST_DEFERRED)
    page = _page(request, issues, settings.ARCHIVE_PAGE_SIZE)
    for issue in page:
        issue.newsletter = newsletter
    return render(request, "archive/newsletter.html", {"newsletter": newsletter, "page_obj": page})


@cache_archive_page
def issue_detail(request, newsletter_slug, slug):
    issue = get_object_or_404(
        Issue.objects.published()
        .select_related("newsletter")
        .prefetch_related(
            "tags",
            Prefetch("sections", queryset=_top_level_sections(), to_attr="top_sections"),
            Prefetch(
                "comments", queryset=Comment.objects.visible().order_by("position", "id"), to_attr="visible_comments"
            ),
        ),
        newsletter__slug=newsletter_slug,
        slug=slug,
    )
    for section in issue.top_sections:
        _prepare_section(section)
        for item in section.ordered_items:
            _prepare_section(item)
    return render(request, "archive/issue.html", {"issue": issue, "newsletter": issue.newsletter})


@cache_archive_page
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    issues = tag.issues.published().select_related("newsletter").newest_first().defer(*LIST_DEFERRED)
    page = _page(request, issues, settings.ARCHIVE_PAGE_SIZE)
    if not page.paginator.count:
        raise Http404("No published issues have this tag.")
    return render(request, "archive/tag.html", {"tag": tag, "page_obj": page})


@cache_archive_page
def search(request):
    query = request.GET.get("q", "").strip()[:200]
    page = _page(request, search_issues(query), settings.SEARCH_PAGE_SIZE) if query else None
    if page:
        add_snippets(page.object_list, query)
    context = {"query": query, "page_obj": page, "max_results": MAX_RESULTS}
    return render(request, "archive/search.html", context)


def _top_level_sections():
    links = Prefetch("links", to_attr="ordered_links")
    items = Section.objects.order_by("position", "id").prefetch_related(links)
    return (
        Section.objects.filter(parent=None)
        .order_by("position", "id")
        .prefetch_related(links, Prefetch("items", queryset=items, to_attr="ordered_items"))
    )


def _prepare_section(section):
    """A label for the contents list, and the links an editor added that the text does not already show."""
    section.label = section.heading or UNTITLED_LABELS.get(section.kind, section.get_kind_display())
    shown = html.unescape(section.body_html + (section.booking_html if section.booking else ""))
    section.extra_links = [link for link in section.ordered_links if f'href="{link.url}"' not in shown]


def _page(request, object_list, per_page):
    """The requested page; a page number that is not a page is a 404, as in ListView."""
    paginator = Paginator(object_list, per_page, allow_empty_first_page=True)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except InvalidPage as e:
        raise Http404(str(e)) from e
