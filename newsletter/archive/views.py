"""The public archive: newsletters, their published issues, tags and search. No login.

Conditional GET comes from ConditionalGetMiddleware (settings): it sets an ETag
hashed from the rendered page and answers If-None-Match with 304. We do not
derive Last-Modified from Issue.updated_at because sections and comments have
no timestamp of their own, so hiding a comment would not change it and a
reader could be served a stale page.

Pages are kept in the page cache (newsletter/pagecache.py), which forgets them all when
an issue, its sections or comments change; a cached page keeps its ETag, so
conditional GET works the same on a hit. Whether or not it is on, each page's big parts are kept per
version of the rows they show (archive/fragments.py), so an uncached page is mostly one query and a join.
"""

import functools
from types import SimpleNamespace

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from newsletter import languages
from newsletter.archive import access, fragments, structured
from newsletter.archive.search import SearchPaginator, add_snippets, search_issues
from newsletter.models import Comment, Issue, Newsletter, Section, Tag
from newsletter.models.languages import issue_in, page_language, sections_in, titles_in
from newsletter.pagecache import cache_archive_page
from newsletter.rendering import load_top_sections, prepare_sections

# Long text no archive page shows: what was mailed, the send plan and the search text (up to 400 KB each).
PAGE_DEFERRED = ("search_text", "sent_html", "sent_text", "send_plan")
# …and lists of issues show no introduction or sign-off either.
LIST_DEFERRED = (*PAGE_DEFERRED, "intro", "sign_off", "second_intro", "second_sign_off")


@cache_archive_page
def home(request):
    parts = fragments.kept("home", None, fragments.archive_versions(), _home_parts)
    return render(request, "archive/home.html", {**parts})


def _home_parts():
    """The newsletters with their listed issues' count and latest issue, as HTML, and the newsletters' slugs and
    names for the subscribe box (archive/fragments.py keeps both)."""
    latest = Issue.objects.listed().filter(newsletter=OuterRef("pk")).newest_first().values("pk")[:1]
    newsletters = list(
        Newsletter.objects.annotate(
            issue_count=Count("issues", filter=Issue.listed_q("issues__")),
            latest_issue_id=Subquery(latest),
        )
    )
    latest_ids = [n.latest_issue_id for n in newsletters if n.latest_issue_id]
    latest_issues = Issue.objects.defer(*LIST_DEFERRED).in_bulk(latest_ids)
    for newsletter in newsletters:
        newsletter.latest_issue = latest_issues.get(newsletter.latest_issue_id)
        if newsletter.latest_issue:
            newsletter.latest_issue.newsletter = newsletter  # for its URL, without a query
            titles_in([newsletter.latest_issue])  # in the page's language (models/languages.py)
    content = render_to_string("archive/_home_content.html", {"newsletters": newsletters})
    return {"content": content, "newsletters": [SimpleNamespace(slug=n.slug, name=n.name) for n in newsletters]}


@cache_archive_page
def newsletter_archive(request, slug):
    newsletter = get_object_or_404(Newsletter.objects.annotate(versions=fragments.newsletter_versions()), slug=slug)
    page_number = request.GET.get("page") or "1"
    build = functools.partial(_newsletter_content, request, newsletter)
    page_size = settings.ARCHIVE_PAGE_SIZE
    content = fragments.kept("newsletter", newsletter.pk, newsletter.versions, build, page_number, page_size)
    return render(request, "archive/newsletter.html", {"newsletter": newsletter, "content": content})


def _newsletter_content(request, newsletter):
    """One page of the newsletter's listed issues, and its topics (archive/fragments.py keeps it)."""
    issues = newsletter.issues.listed().newest_first().defer(*LIST_DEFERRED)
    page = _page(request, issues, settings.ARCHIVE_PAGE_SIZE)
    for issue in page:
        issue.newsletter = newsletter
    titles_in(page)  # in the page's language (models/languages.py)
    topics = newsletter.topics.order_by("position", "name").only("name", "slug", "newsletter_id")
    context = {"newsletter": newsletter, "page_obj": page, "topics": topics}
    return render_to_string("archive/_newsletter_content.html", context)


@cache_archive_page
def issue_detail(request, newsletter_slug, slug):
    wanted = _wanted_topics(request)
    issue = get_object_or_404(
        Issue.objects.published()
        .select_related("newsletter")
        .defer(*PAGE_DEFERRED)
        .annotate(versions=fragments.issue_versions(edition=bool(wanted))),
        newsletter__slug=newsletter_slug,
        slug=slug,
    )
    refused = access.refuse(request, issue)  # unlisted and subscribers-only issues (archive/access.py)
    if refused:
        return refused
    # The content in the page's language (/cy/… Welsh, when the newsletter is written in it: models/languages.py).
    language = page_language(issue.newsletter)
    # A page opened by a reader's token links to the issue's other pages with it: kept with a slot in its place.
    token_query = access.token_query(request)
    slot = fragments.TOKEN_SLOT if token_query else ""
    build = functools.partial(_issue_parts, issue, language, wanted, slot)
    parts = fragments.kept("issue", issue.pk, issue.versions, build, language, wanted, bool(slot))
    if slot:
        parts = {**parts, "content": fragments.fill_token(parts["content"], token_query)}
    context = {"issue": issue_in(issue, language), "newsletter": issue.newsletter, **parts}
    return access.mark(request, issue, render(request, "archive/issue.html", context))


def _issue_parts(issue, language, wanted, token_query):
    """The page's head and content (archive/fragments.py), from the issue's tags, comments and sections."""
    comments = Comment.objects.visible().order_by("position", "id")
    prefetch_related_objects([issue], "tags", Prefetch("comments", queryset=comments, to_attr="visible_comments"))
    issue.top_sections = load_top_sections(issue)
    sections_in(issue.top_sections, language, issue.newsletter)
    issue = issue_in(issue, language)
    edition = _edition_topics(wanted, issue)
    issue.top_sections = prepare_sections(issue.top_sections)
    context = {"issue": issue, "newsletter": issue.newsletter, "edition_topics": edition}
    context["content_lang"] = "" if language == languages.current() else languages.bcp47(language)
    context["token_query"] = token_query
    context["meta"] = structured.page_meta(issue, issue.top_sections)  # description, Open Graph, JSON-LD
    return fragments.issue_parts(context)


def _wanted_topics(request):
    """A personal edition's web link (?topics=health,events): the topics' slugs, sorted ((): the whole issue)."""
    return tuple(sorted({slug for slug in request.GET.get("topics", "")[:500].split(",") if slug}))


def _edition_topics(wanted, issue):
    """A personal edition's page: only the sections with the `wanted` topics and the untagged ones, as that
    edition was mailed. Returns the topics' names ([] for the whole issue)."""
    if not wanted:
        return []
    tagged, names = {}, {}
    rows = Section.topics.through.objects.filter(section__issue=issue).values_list(
        "section_id", "topic__slug", "topic__name"
    )
    for section_id, slug, name in rows:
        tagged.setdefault(section_id, set()).add(slug)
        if slug in wanted:
            names[slug] = name
    if not names:
        return []
    issue.top_sections = [s for s in issue.top_sections if s.pk not in tagged or tagged[s.pk] & set(wanted)]
    return sorted(names.values())


@cache_archive_page
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    issues = tag.issues.listed().select_related("newsletter").newest_first().defer(*LIST_DEFERRED)
    page = _page(request, issues, settings.ARCHIVE_PAGE_SIZE)
    if not page.paginator.count:
        raise Http404("No published issues have this tag.")
    titles_in(page)
    return render(request, "archive/tag.html", {"tag": tag, "page_obj": page})


@cache_archive_page
def search(request):
    query = request.GET.get("q", "").strip()[:200]
    if not query:
        return render(request, "archive/search.html", {"query": query, "page_obj": None})
    results = search_issues(query)
    page = _page(request, results, settings.SEARCH_PAGE_SIZE, SearchPaginator)
    add_snippets(page.object_list, query)
    context = {"query": query, "page_obj": page, "matches": results.total, "max_results": results.limit}
    return render(request, "archive/search.html", context)


def _page(request, object_list, per_page, paginator_class=Paginator):
    """The requested page; a page number that is not a page is a 404, as in ListView."""
    paginator = paginator_class(object_list, per_page, allow_empty_first_page=True)
    try:
        return paginator.page(request.GET.get("page") or 1)
    except InvalidPage as e:
        raise Http404(str(e)) from e
