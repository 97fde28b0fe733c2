"""The archive pages' big parts (an issue page's head and body, a newsletter's list, the home page's list)
rendered once and kept in this process, keyed by the row versions of everything they show (issue 17).

A page's one query loads its row with `versions`: an md5 over the PostgreSQL row version (xmin, cmin) of every
row the part shows (the issue, its newsletter, sections, links, images, comments, tags…). Any write to one of
those rows, through any door (the admin, a bulk action, QuerySet.update(), raw SQL, another process), gives it a
new xmin (or, inside one transaction, a new cmin), and an insert or delete changes the set, so the key changes
and the part renders afresh: nothing has to remember to forget it, and the page cache's version (which moves only
when ARCHIVE_CACHE_SECONDS > 0) plays no part. The key also holds the languages and SITE_URL the part depends on.

Only what is the same for every reader is kept: a page opened by a reader token, or a personal edition
(?topics=), renders each time. The shell around the parts (the language switch, the subscribe box, headers)
renders per request.

SQLite has no row versions: there `versions` is None and every part renders each time (development only).
Kept per process (a bounded LRU, no round trip): each gunicorn worker renders a part once per version.
"""

import threading
from collections import OrderedDict

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Value
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string

from newsletter import languages
from newsletter.models import Comment, Issue, Link, Newsletter, Section, SectionImage, Tag, Topic

MAX_PARTS = 256  # an issue page's parts are ~10-60 KB: at most some MB per process


class _LRU:
    def __init__(self, size):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value):
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_parts = _LRU(MAX_PARTS)


def kept(kind, pk, versions, build, *extra):
    """build()'s result, from this process's store when `versions` (from the page's query) is unchanged."""
    if versions is None:
        return build()
    key = (kind, pk, versions, languages.current(), settings.SITE_URL, *extra)
    found = _parts.get(key)
    if found is None:
        found = build()
        _parts.put(key, found)
    return found


# Row versions ------------------------------------------------------------------------------------------


def _row(alias):
    """A row version: xmin is the transaction that wrote it, cmin the command within that transaction (two
    writes in one transaction share an xmin)."""
    return f"{alias}.xmin::text || '.' || {alias}.cmin::text"


def _rows(model, where, join=""):
    """Every matching row's id and version, in id order; '' for none."""
    return (
        f"coalesce((SELECT string_agg(t.id::text || ':' || {_row('t')}, ',' ORDER BY t.id) "
        f"FROM {_quoted(model)} t {join} WHERE {where}), '')"
    )


def _versions(*parts):
    """The md5 of the parts, as an annotation; NULL off PostgreSQL (no row versions)."""
    if connection.vendor != "postgresql":
        return Value(None, output_field=CharField())
    return RawSQL("md5(" + " || '|' || ".join(parts) + ")", [])


def _quoted(model):
    return connection.ops.quote_name(model._meta.db_table)


def issue_versions():
    """For Issue.objects…select_related("newsletter"): the issue, its newsletter, and its sections, links, images,
    visible or hidden comments, tags (their names) and tag links."""
    issue, newsletter = _quoted(Issue), _quoted(Newsletter)
    section, tags = _quoted(Section), _quoted(Issue.tags.through)
    of_issue = f"t.issue_id = {issue}.id"
    in_sections = f"JOIN {section} s ON s.id = t.section_id"
    return _versions(
        _row(issue),
        _row(newsletter),
        _rows(Section, of_issue),
        _rows(Link, f"s.issue_id = {issue}.id", in_sections),
        _rows(SectionImage, f"s.issue_id = {issue}.id", in_sections),
        _rows(Comment, of_issue),
        _rows(Issue.tags.through, of_issue),
        _rows(Tag, f"t.id IN (SELECT tag_id FROM {tags} WHERE issue_id = {issue}.id)"),
    )


def newsletter_versions():
    """For Newsletter.objects: the newsletter, every issue of it (a list shows the listed ones) and its topics."""
    newsletter = _quoted(Newsletter)
    of_newsletter = f"t.newsletter_id = {newsletter}.id"
    return _versions(_row(newsletter), _rows(Issue, of_newsletter), _rows(Topic, of_newsletter))


def archive_versions():
    """For the home page: every newsletter and issue (one query, no ORM); None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT md5({_rows(Newsletter, 'true')} || '|' || {_rows(Issue, 'true')})")
        return cursor.fetchone()[0]


# The issue page's parts ---------------------------------------------------------------------------------


def issue_parts(context):
    """{"head", "content"}: the issue page's <head> tags and its article and comments (archive/issue.html)."""
    return {
        "head": render_to_string("archive/_issue_head.html", context),
        "content": render_to_string("archive/_issue_content.html", context),
    }
