"""Reach without tracking people: the links of a sent issue, and aggregate click counters per link.

A TrackedLink is one link of one issue's email (its section, if any, and its target URL). The email carries
`/r/<id>.<signature>` instead of the URL: no subscriber in it, and the signature (salted HMAC over the id and
the target) means a guessed or altered id gets a 404, never a redirect anywhere else.

Counting (`record`): one aggregate counter per link and kind. With REDIS_URL, an atomic cache `incr` (web
requests never write the database) and `flush()` (beat, every minute) moves the counts into the rows; without
it, an UPDATE … SET n = n + 1 on the row at once. Kinds:
    clicks    a GET a reader made: the only figure shown as clicks
    heads     HEAD requests (link scanners and previewers check a link without following it)
    early     GETs within REACH_EARLY_SECONDS of the issue's send start (mail scanners click on arrival)
    limited   a client over REACH_CLICKS_PER_MINUTE (counted once per client and minute, not per request)
The canary link (one per issue, a zero-size link no human sees) counts every hit in its own row's `clicks`;
those rows are never shown as clicks.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac

from newsletter.models.content import Issue
from newsletter.models.sections import Section

KINDS = ("clicks", "heads", "early", "limited")
SALT = "newsletter.reach.link"
PREFIX = "reach"


class TrackedLink(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="tracked_links")
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.TextField()
    position = models.PositiveIntegerField(default=0)
    canary = models.BooleanField(default=False)
    clicks = models.BigIntegerField(default=0)
    heads = models.BigIntegerField(default=0)
    early = models.BigIntegerField(default=0)
    limited = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["issue", "position", "id"]
        indexes = [models.Index(fields=["issue", "position"])]

    def __str__(self):
        return self.url

    @property
    def signature(self):
        return link_signature(self.pk, self.url)

    @property
    def path(self):
        return f"/r/{self.pk}.{self.signature}"


def link_signature(link_id, url):
    """80 bits of HMAC over the link id and its target; SECRET_KEY rotation ends old links (a 404)."""
    return salted_hmac(SALT, f"{link_id}\n{url}", algorithm="sha256").hexdigest()[:20]


def verify(link_id, signature):
    """The TrackedLink for a short link, or None when the id is unknown or the signature does not match."""
    link = TrackedLink.objects.select_related("issue").filter(pk=link_id).first()
    if link is None or not constant_time_compare(signature, link.signature):
        return None
    return link


def _uses_cache():
    return bool(getattr(settings, "REDIS_URL", ""))


def _key(link_id, kind):
    return f"{PREFIX}:{link_id}:{kind}"


def _dirty_key(issue_id):
    return f"{PREFIX}:dirty:{issue_id}"


def record(link, kind):
    """Count one event of `kind` on `link` (a TrackedLink): in the cache with Redis, else in its row."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not _uses_cache():
        TrackedLink.objects.filter(pk=link.pk).update(**{kind: F(kind) + 1})
        return
    key = _key(link.pk, kind)
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:  # flushed away between add and incr
        cache.add(key, 1, timeout=None)
    cache.set(_dirty_key(link.issue_id), 1, timeout=None)


def flush():
    """Move the cache's counters into the rows (beat, every minute); returns how many counts moved.

    Per issue with clicks since the last flush: its mark is cleared first (a click after that marks it
    again), then each counter is read and decremented by what was read (atomic on Redis), so no click
    is lost or counted twice by concurrent clicks or flushes."""
    if not _uses_cache():
        return 0
    issue_ids = list(TrackedLink.objects.order_by().values_list("issue_id", flat=True).distinct())
    marks = cache.get_many([_dirty_key(pk) for pk in issue_ids])
    moved = 0
    for issue_id in issue_ids:
        if not marks.get(_dirty_key(issue_id)):
            continue
        cache.delete(_dirty_key(issue_id))
        link_ids = list(TrackedLink.objects.filter(issue_id=issue_id).values_list("pk", flat=True))
        keys = {_key(pk, kind): (pk, kind) for pk in link_ids for kind in KINDS}
        for key, value in cache.get_many(list(keys)).items():
            if not value:
                continue
            cache.decr(key, value)
            pk, kind = keys[key]
            TrackedLink.objects.filter(pk=pk).update(**{kind: F(kind) + value})
            moved += value
    return moved
