"""Searching listed issues (published and public: Issue.objects.listed()): full-text on PostgreSQL, a plain
substring fallback on SQLite.

Both return the same shape: a queryset of published issues, best match first,
each with a `snippet` attribute (safe HTML: the text is escaped, only <mark>
is ours) once `add_snippets()` has run over the page being shown.

An issue's search text is Markdown, so a snippet is made readable first (`readable()`):
autolinks lose their angle brackets (`<a@b.org>` shows as a@b.org), a link shows its
text, backslash escapes, emphasis markers and HTML tags go. On PostgreSQL this is done
to each fragment ts_headline returns, whose ends may cut a link in two.
"""

import re

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchConfig, SearchQuery, SearchRank, SearchVectorField
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Case, Count, F, Func, IntegerField, Q, TextField, Value, When, Window
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

from newsletter.models import Issue

# Results past this are not worth paging through; ask for a better query instead.
MAX_RESULTS = 200
SNIPPET_CHARS = 240
SEARCH_CONFIG = "english"

# ts_headline works on the raw (untrusted) text, so it marks matches with
# private-use characters; we escape everything and only then turn them into <mark>.
_START, _STOP = "\ue000", "\ue001"
_FRAGMENT_DELIMITER = " … "
_HEADLINE_OPTIONS = (
    f"StartSel='{_START}', StopSel='{_STOP}', MaxWords=40, MinWords=20, MaxFragments=2, "
    f"FragmentDelimiter='{_FRAGMENT_DELIMITER}'"
)
# ts_headline parses all the text it is given (about 0.1 µs a character, plus its set-up): on PostgreSQL a
# snippet is made from EXCERPT_CHARS of the text from EXCERPT_BEFORE characters ahead of the first match.
EXCERPT_BEFORE, EXCERPT_CHARS = 200, 1000
# What a page of results shows of an issue (with its newsletter's name and slug for the link).
RESULT_FIELDS = (
    *("title", "slug", "issue_date", "date_precision", "created_at"),
    *("newsletter", "newsletter__name", "newsletter__slug"),
)

# The issue's title (weight A) and search text (weight B) as a tsvector, stored on PostgreSQL in
# newsletter_issue.search_vector, GIN-indexed and kept by a trigger (migration 0022); not a model field,
# so only search reads it. SEARCH_CONFIG is the configuration the trigger uses.
SEARCH_VECTOR = RawSQL('"newsletter_issue"."search_vector"', [], output_field=SearchVectorField())


def search_issues(query):
    """Listed issues (Issue.objects.listed()) matching `query`, best first, at most MAX_RESULTS (a SearchResults)."""
    query = (query or "").strip()
    if not query:
        return SearchResults(Issue.objects.none(), Issue.objects.none())
    issues = Issue.objects.listed()
    if connection.vendor == "postgresql":
        matching = issues.alias(search=SEARCH_VECTOR).filter(search=_search_query(query))
        ranked = _full_text(matching, query)
    else:
        matching = _substring(issues, query)
        ranked = _by_title_then_date(matching, query)
    fields = RESULT_FIELDS if connection.vendor == "postgresql" else (*RESULT_FIELDS, "search_text")
    return SearchResults(matching, ranked.select_related("newsletter").only(*fields))


class SearchResults:
    """A search's results, best first, at most MAX_RESULTS. SearchPaginator reads a page of them in one query:
    its rows, ranked, snippets (PostgreSQL's ts_headline) made for those rows only, and how many issues match
    in all (a window count over the matches, before the sort and limit)."""

    def __init__(self, matching, ranked):
        self._matching, self._ranked = matching, ranked
        self.limit = MAX_RESULTS
        self.total = None  # how many issues match, known once a page was read or count() ran

    def count(self):
        """How many results there are to page through (at most self.limit)."""
        if self.total is None:
            self.total = self._matching.order_by().count()
        return min(self.total, self.limit)

    def page_rows(self, bottom, top):
        """Results bottom to top (0-based, top excluded), and self.total from the same query."""
        top = min(top, self.limit)
        if bottom >= top:
            return []
        rows = list(self._ranked.annotate(matches=Window(Count("pk")))[bottom:top])
        if rows or bottom == 0:
            self.total = rows[0].matches if rows else 0
        return rows

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        return self._ranked[: self.limit][index]

    def __iter__(self):
        return iter(self._ranked[: self.limit])


class SearchPaginator(Paginator):
    """A Paginator over SearchResults that reads the page asked for and the count in one query."""

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        rows = self.object_list.page_rows(bottom, bottom + self.per_page)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        self.count = self.object_list.count()  # Paginator.count is a cached_property: this is its value
        return self._get_page(rows, number, self)


def add_snippets(issues, query):
    """Set `issue.snippet` on each issue of a page of results."""
    terms = _terms(query)
    for issue in issues:
        headline = getattr(issue, "headline", None)
        if headline is not None:
            issue.snippet = _headline_to_html(headline)
        else:
            issue.snippet = snippet(readable(issue.search_text), terms)
    return issues


# Markdown read as text. Each alternative starts at the one character it looks for and its runs are
# possessive, so a long run is scanned once (the search text can be 400,000 characters).
_MARKDOWN = re.compile(
    r"\\(?P<escaped>[\\`*_{}\[\]()#+\-.!<>|~])"
    r"|\[(?P<text>(?:\\.|[^\\\[\]\n])*+)\]\([^()\s]*+\)"
    r"|<(?P<angle>[^<>\n]*+)>"
    r"|(?<![^\n])#{1,6}[ \t]+"
    r"|\*++|`++|(?<!\w)_++|_++(?!\w)"
)
_TAG = re.compile(r"/?[A-Za-z][A-Za-z0-9-]*+(?:\s|/?$)")
# The ends of a ts_headline fragment, which may fall inside a link.
_FRAGMENT_HEAD = re.compile(
    r"^(?:(?P<text>[^\s\[\]]*+)\]\([^()\s]*+\)|(?P<angle>[^\s<>]++)>|(?P<target>[^\s()<>]*+)\))"
)
_FRAGMENT_TAIL = re.compile(r"(?:<(?P<angle>[^\s<>]++)|(?<!\\)\[(?P<text>[^\[\]\n]*+)(?:\]\([^()\s]*+)?)$")


def _is_address(text):
    return not re.search(r"\s", text) and ("@" in text or "://" in text or text.startswith("mailto:"))


def _as_text(m):
    if m["escaped"] is not None:
        return m["escaped"]
    if m["text"] is not None:
        return readable(m["text"])
    if m["angle"] is not None:
        inner = m["angle"]
        if _is_address(inner):
            return inner.removeprefix("mailto:")  # an autolink: the address itself
        return " " if _TAG.match(inner) else m[0]  # an HTML tag goes; "a < b > c" stays
    return ""  # emphasis, code and heading markers


def readable(markdown_text):
    """Markdown as a reader sees it, in plain text (not escaped)."""
    return _MARKDOWN.sub(_as_text, markdown_text or "")


def _readable_fragment(fragment):
    """readable() for a piece of Markdown that may start or end inside a link."""

    def head(m):
        if m["text"] is not None:
            return m["text"]
        if m["angle"] is not None:
            return m["angle"] if _is_address(m["angle"]) else m[0]
        return "" if re.search(r"[./:]", m["target"]) else m[0]  # the rest of a link's address

    def tail(m):
        if m["angle"] is not None:
            return m["angle"] if _is_address(m["angle"]) else m[0]
        return m["text"]

    return readable(_FRAGMENT_TAIL.sub(tail, _FRAGMENT_HEAD.sub(head, fragment, count=1), count=1))


def _search_query(query):
    return SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)


class _Headline(Func):
    """newsletter_search_headline() (migration 0024): ts_headline over an excerpt of the text around the
    first place one of `terms` appears, or over the whole text if none does (or the excerpt marks nothing)."""

    function = "newsletter_search_headline"
    output_field = TextField()


def _full_text(matching, query):
    search_query = _search_query(query)
    # Where the excerpt starts: the word (or "phrase") as typed, in lower case or capitalised (a heading, or a
    # name typed in lower case), whichever comes first. With more than one, ts_headline picks the fragments
    # where most of them meet, which may be anywhere: those snippets are made from the whole text.
    wanted = _terms(query)
    forms = [wanted[0].lower(), wanted[0][:1].upper() + wanted[0][1:].lower()] if len(wanted) == 1 else []
    terms = list(dict.fromkeys(forms))
    return matching.annotate(
        rank=SearchRank(SEARCH_VECTOR, search_query),
        headline=_Headline(
            SearchConfig.from_parameter(SEARCH_CONFIG),
            F("search_text"),
            search_query,
            Value(_HEADLINE_OPTIONS),
            Value(_START),
            Value(terms, output_field=ArrayField(TextField())),
            Value(EXCERPT_BEFORE),
            Value(EXCERPT_CHARS),
        ),
    ).order_by("-rank", *_newest_first())


def _substring(issues, query):
    """Every term in the title or text (a "quoted phrase" is one term), no -excluded term."""
    wanted, unwanted = _parse(query)
    if not wanted:
        return issues.none()
    for term in wanted:
        issues = issues.filter(Q(title__icontains=term) | Q(search_text__icontains=term))
    for term in unwanted:
        issues = issues.exclude(Q(title__icontains=term) | Q(search_text__icontains=term))
    return issues


def _by_title_then_date(matching, query):
    title_hits = Q()
    for term in _parse(query)[0]:
        title_hits |= Q(title__icontains=term)
    in_title = Case(When(title_hits, then=Value(1)), default=Value(0), output_field=IntegerField())
    return matching.annotate(in_title=in_title).order_by("-in_title", *_newest_first())


def _newest_first():
    # Ties broken as in IssueQuerySet.newest_first().
    return (F("issue_date").desc(nulls_last=True), "-created_at", "-id")


def _parse(query):
    """(wanted, unwanted) terms of a websearch-style query, longest first."""
    wanted, unwanted = set(), set()
    for minus, phrase, word in re.findall(r'(-?)(?:"([^"]*)"|(\S+))', query or ""):
        term = " ".join((phrase or word).replace('"', " ").split())
        if not re.search(r"\w", term) or (not phrase and term.lower() == "or"):
            continue
        (unwanted if minus else wanted).add(term)
    return sorted(wanted, key=len, reverse=True), sorted(unwanted, key=len, reverse=True)


def _terms(query):
    return _parse(query)[0]


def _headline_to_html(headline):
    # Private-use characters in the source text itself must not become markup.
    headline = _FRAGMENT_DELIMITER.join(_readable_fragment(f) for f in headline.split(_FRAGMENT_DELIMITER))
    text = escape(headline.replace(_START + _STOP, ""))
    html = re.sub(f"{_START}(.*?){_STOP}", r"<mark>\1</mark>", text, flags=re.S)
    return mark_safe(html.replace(_START, "").replace(_STOP, ""))  # escaped above


def snippet(text, terms, length=SNIPPET_CHARS):
    """Escaped excerpt of `text` around the first match of any term, matches in <mark>."""
    text = re.sub(r"\s+", " ", text or "").strip()
    if not text:
        return ""
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.I) if terms else None
    first = pattern.search(text) if pattern else None
    start = 0
    if first:
        start = max(0, first.start() - length // 3)
        if start:
            # Start on a word boundary so the excerpt does not open mid-word.
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if first is None or space > first.end() else end
    excerpt = text[start:end]
    parts = pattern.split(excerpt) if pattern else [excerpt]
    matches = pattern.findall(excerpt) if pattern else []
    html = escape(parts[0])
    for match, part in zip(matches, parts[1:], strict=True):
        html += f"<mark>{escape(match)}</mark>{escape(part)}"
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + html + suffix)  # every piece is escaped
