"""The archive's page cache: rendered pages kept in Django's cache (Redis when REDIS_URL is set).

Served early: ArchivePageCache sits near the top of MIDDLEWARE (after security and static files,
before CSP, sessions, language, CSRF and auth), so a hit costs one cache round trip (Redis MGET of
the version token and the page) and none of the middleware below it; the headers those added when
the page rendered (CSP, X-Frame-Options, Content-Language, Vary) are stored with it. Views opt in with
@cache_archive_page, which only marks the request; the middleware stores what such a view answered
once it has passed back through the middleware below (cookies, Vary, CSRF all known by then).

Every stored page holds the archive's version at the time it was looked up (before rendering), a
random token kept in the cache under VERSION_KEY, and is served only while the token is unchanged.
Any change to what the archive shows replaces the token, so every page renders afresh on its next
request; the old entries are overwritten or expire after ARCHIVE_CACHE_SECONDS. A site-wide version is coarse,
but issues change a few times a week, while one issue changes the home page, its
newsletter's list, tag pages and search results alike.

What replaces the token:
- save() and delete() of newsletters, issues, sections, links, comments, tags and topics,
  changes to an issue's tags and to a section's topics (topic pages), and every status move
  (`Issue.objects.move` sends `status_moved`: an issue is on the web from the moment it sends)
  (signals, connected in apps.py via `connect_signals`);
- any successful POST in the admin by staff (AdminEditsRefreshArchive), because
  some admin actions update rows in bulk (hiding comments), which sends no signals;
- `archive_changed()`, which code that writes with QuerySet.update() or
  bulk_create() should call itself.

Each language's copy of a page has its own key (the language is in it, taken from the path as
LocaleMiddleware does: /cy/… is Welsh, anything else the default); the token is the same for
every language, so one change renews the English and the Welsh pages alike.

The token is replaced after the transaction commits: a page rendered from the old
rows can only be stored with the old token, never with the new one.

Conditional GET: a cached page keeps the ETag computed when it was rendered, and a hit answers a
reader's If-None-Match with a 304 itself (ConditionalGetMiddleware, below it, does so on a miss).

If the cache itself fails (Redis down), pages are rendered as if uncached.
"""

import functools
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, has_vary_header, set_response_etag

logger = logging.getLogger(__name__)

VERSION_KEY = "archive-version"
PAGE_KEY = "archive-page:{language}:{method}:{digest}"


def archive_version():
    """The token that every cached page's key holds; made on first use."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def archive_changed():
    """Make every archive page render afresh once the current transaction commits."""
    if not settings.ARCHIVE_CACHE_SECONDS:
        return  # no page cache, nothing to forget (and no write: workers call this too)
    transaction.on_commit(_new_version)


def _new_version():
    # A new random token rather than incr(): two writers at once never end on a token a page was cached under.
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:
        logger.exception("Could not refresh the archive's page cache")


def cache_archive_page(view):
    """Mark a view's pages for the page cache (ArchivePageCache serves and stores them).

    Only plain public pages are stored: a 200 that set no cookie and did not read the
    session or use a CSRF token (either would make the page differ between readers).
    """

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        request.archive_page_cacheable = True
        return view(request, *args, **kwargs)

    return cached_view


class ArchivePageCache:
    """Serve a GET or HEAD from the page cache in one round trip; store what a marked view rendered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.ARCHIVE_CACHE_SECONDS
        if not timeout or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        key = _page_key(request)
        try:
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY) or archive_version()
        except Exception:
            logger.warning("Archive page cache unavailable; rendering without it", exc_info=True)
            return self.get_response(request)
        stored = found.get(key)
        if stored is not None and stored.get("version") == version:
            return _from_stored(request, stored)
        response = self.get_response(request)
        if getattr(request, "archive_page_cacheable", False) and _storable(request, response):
            if not response.has_header("ETag"):
                set_response_etag(response)
            try:
                cache.set(key, _to_stored(response, version), timeout)
            except Exception:
                logger.warning("Could not store an archive page in the cache", exc_info=True)
        return response


def _page_key(request):
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    # HEAD and GET share an entry: the same page, its body dropped by the server for HEAD. Each language
    # has its own entry (the path tells them apart too, /cy/…, but a page is only ever served in the
    # language it was rendered in); one version token covers every language, so a change renews them all.
    language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    return PAGE_KEY.format(language=language, method="GET", digest=digest)


def _storable(request, response):
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not has_vary_header(response, "Cookie")
        and not (session is not None and session.accessed)
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
    )


def _to_stored(response, version):
    headers = {k: v for k, v in response.items() if k.lower() not in ("content-length", "date")}
    return {"version": version, "status": response.status_code, "headers": headers, "content": response.content}


def _from_stored(request, stored):
    response = HttpResponse(stored["content"], status=stored["status"])
    for name, value in stored["headers"].items():
        response[name] = value
    if request.method == "GET":
        response = get_conditional_response(request, etag=response.get("ETag"), response=response)
    return response


class AdminEditsRefreshArchive:
    """A successful POST in the admin by staff makes the archive render afresh (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code < 400
            and request.path.startswith(reverse("admin:index"))
            and getattr(request, "user", None) is not None
            and request.user.is_staff
        ):
            archive_changed()
        return response


def _changed(sender, **kwargs):
    archive_changed()


def connect_signals():
    """Called once from NewsletterConfig.ready()."""
    from newsletter.models import Comment, Issue, Link, Newsletter, Section, Tag, Topic, status_moved

    for model in (Newsletter, Issue, Section, Link, Comment, Tag, Topic):
        post_save.connect(_changed, sender=model, dispatch_uid=f"archive-cache-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"archive-cache-delete-{model.__name__}")
    m2m_changed.connect(_changed, sender=Issue.tags.through, dispatch_uid="archive-cache-issue-tags")
    m2m_changed.connect(_changed, sender=Section.topics.through, dispatch_uid="archive-cache-section-topics")
    status_moved.connect(_changed, sender=Issue, dispatch_uid="archive-cache-issue-moved")  # e.g. sending starts
