"""The archive's page cache: rendered pages kept in Django's cache (Redis when REDIS_URL is set).

Every cached page's key holds the archive's current version, a random token kept
in the cache under VERSION_KEY. Any change to what the archive shows replaces the
token, so every page renders afresh on its next request; the old entries are never
read again and expire after ARCHIVE_CACHE_SECONDS. A site-wide version is coarse,
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

Each language's copy of a page has its own key (the language is in it); the token is the same for
every language, so one change renews the English and the Welsh pages alike.

The token is replaced after the transaction commits: a page rendered from the old
rows can only be stored under the old token, never under the new one.

Conditional GET still comes from ConditionalGetMiddleware: a cached page keeps the
ETag computed when it was rendered, so a reader's If-None-Match gets a 304.

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
from django.utils.cache import has_vary_header, set_response_etag

logger = logging.getLogger(__name__)

VERSION_KEY = "archive-version"
PAGE_KEY = "archive-page:{version}:{language}:{method}:{digest}"


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
    """Serve a GET from the page cache when it holds a fresh copy; store what the view renders.

    Only plain public pages are stored: a 200 that set no cookie and did not read the
    session or use a CSRF token (either would make the page differ between readers).
    """

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        timeout = settings.ARCHIVE_CACHE_SECONDS
        if not timeout or request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        try:
            key = _page_key(request)
            stored = cache.get(key)
        except Exception:
            logger.warning("Archive page cache unavailable; rendering without it", exc_info=True)
            return view(request, *args, **kwargs)
        if stored is not None:
            return _from_stored(stored)
        response = view(request, *args, **kwargs)
        if _storable(request, response):
            set_response_etag(response)
            try:
                cache.set(key, _to_stored(response), timeout)
            except Exception:
                logger.warning("Could not store an archive page in the cache", exc_info=True)
        return response

    return cached_view


def _page_key(request):
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    # HEAD and GET share an entry: the same page, its body dropped by the server for HEAD. Each language
    # has its own entry (the path tells them apart too, /cy/…, but a page is only ever served in the
    # language it was rendered in); one version token covers every language, so a change renews them all.
    return PAGE_KEY.format(
        version=archive_version(), language=translation.get_language() or "", method="GET", digest=digest
    )


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


def _to_stored(response):
    headers = {k: v for k, v in response.items() if k.lower() not in ("content-length", "date")}
    return {"status": response.status_code, "headers": headers, "content": response.content}


def _from_stored(stored):
    response = HttpResponse(stored["content"], status=stored["status"])
    for name, value in stored["headers"].items():
        response[name] = value
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
