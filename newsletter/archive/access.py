"""Who may open an issue's web page, by its visibility (Issue.Visibility; docs/editor.md "Who can read an issue").

- public: anyone; the page is cached and indexed.
- unlisted: anyone with the link; `noindex` (meta and X-Robots-Tag). Lists never show it (Issue.objects.listed()).
- subscribers only: the page opens for a reader token (`?token=`, newsletter/tokens.py) made for this issue and a
  subscriber who still exists, as every web link in a subscriber's copy of the issue carries; the page is then
  private (never in the shared page cache), `noindex`, and sends no Referer. Without a good token (none, altered,
  expired, another issue's, or an erased subscriber's) every request gets the same invitation to subscribe, with
  status 403 and nothing of the issue but its newsletter's name: no title, no preheader, no snippet. An editor
  logged in to the admin (the view-issue permission) reads the page without a token, privately, to check it.

A token on a page that opens by its link is not needed: the reader is redirected to the address without it, so
the cached page serves them and the address they share carries nothing of theirs.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.shortcuts import render

from newsletter import tokens
from newsletter.models import Subscriber

TOKEN = "token"
NOINDEX = "noindex"


def refuse(request, issue):
    """None when the request may read the issue; else the response to give instead (a redirect or the invitation).
    Sets `request.reader_private` when the page must not be shared (a subscribers-only issue opened by its token)."""
    token = request.GET.get(TOKEN)
    if issue.opens_by_link:
        if token is not None:
            kept = [(k, v) for k, v in request.GET.items() if k != TOKEN]
            return HttpResponseRedirect(request.path + (f"?{urlencode(kept)}" if kept else ""))
        return None
    if _reader(token, issue) is None and not _editor(request):
        return invitation(request, issue)
    request.reader_private = True
    return None


def _editor(request):
    """An editor (who may view issues in the admin) reads every issue's page, privately, without a token."""
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated and user.has_perm("newsletter.view_issue")


def _reader(token, issue):
    try:
        subscriber_id = tokens.read_reader_token(token, issue.pk)
    except tokens.BadToken:
        return None
    return Subscriber.objects.filter(pk=subscriber_id).values_list("pk", flat=True).first()


def invitation(request, issue):
    context = {"newsletter": issue.newsletter, "noindex": True}
    response = render(request, "archive/subscribers_only.html", context, status=403)
    return mark(request, issue, response, private=True)


def mark(request, issue, response, private=None):
    """Headers for a page of this issue: noindex unless public; private and no Referer when opened by a token."""
    if issue.visibility != issue.Visibility.PUBLIC:
        response["X-Robots-Tag"] = NOINDEX
    if private or getattr(request, "reader_private", False):
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
    return response


def token_query(request):
    """`token=…` for links from a page opened by its token to the issue's other pages (what changed), else ""."""
    if getattr(request, "reader_private", False):
        return urlencode({TOKEN: request.GET.get(TOKEN, "")})
    return ""
