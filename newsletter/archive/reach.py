"""/r/<id>.<signature>: a short link from an issue's email (newsletter.models.reach) → its target, counted.

Public and anonymous: the URL names a link of an issue, never a reader, and nothing about the request
(address, cookies, user agent) is stored. An unknown id or a signature that does not match is a 404 page,
never a redirect, so the short links cannot be used to send anyone anywhere else; a link answers 302 only to
the address it was made for in the sent issue. What is counted as a click, and what is counted apart:
newsletter.models.reach and docs/editor.md#reach.
"""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from newsletter.models import reach
from newsletter.ratelimit import client_ip, hit, retry_after

WINDOW = 60


def _setting(name, default):
    return getattr(settings, name, default)


@never_cache
@require_safe
def follow(request, link_id, signature):
    link = reach.verify(link_id, signature)
    if link is None or not link.url.startswith(("https://", "http://")):
        raise Http404("No such link.")
    per_minute = _setting("REACH_CLICKS_PER_MINUTE", 30)
    seen = hit(f"reach:ip:{client_ip(request)}", WINDOW)
    if seen > per_minute:
        if seen == per_minute + 1:  # once per client and window: a flood cannot grow any counter
            reach.record(link, "limited")
        response = HttpResponse("Too many requests.", status=429, content_type="text/plain")
        response["Retry-After"] = str(retry_after(WINDOW))
        return response
    reach.record(link, _kind(request, link))
    response = HttpResponseRedirect(link.url)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _kind(request, link):
    if link.canary:
        return "clicks"  # the canary row's own count: every hit on it is a scanner's
    if request.method == "HEAD":
        return "heads"
    started = link.issue.send_started_at
    early = _setting("REACH_EARLY_SECONDS", 30)
    if started and (timezone.now() - started).total_seconds() < early:
        return "early"
    return "clicks"
