"""Short links in an issue's email, for the newsletter's click counts (newsletter.models.reach).

track_links(issue, rendered) rewrites a RenderedIssue once per issue (or per edition) at send time: each
http(s) link of the HTML becomes `SITE_URL/r/<id>.<signature>`, the same short link replaces the address in the
plain-text part, and a zero-size, aria-hidden canary link is added at the end of the HTML. The personal parts
(unsubscribe, preferences, the web links' reader token) are placeholders filled per recipient later and are never
rewritten (so the web links are not counted): every recipient gets the same short links and none carries a
subscriber. Off unless the newsletter counts clicks.
"""

import dataclasses
import html as _html
import re

from newsletter.models import Section, TrackedLink
from newsletter.tokens import absolute

HREF = re.compile(r'href="(https?://[^"]+)"')
CANARY = '<a href="{url}" aria-hidden="true" tabindex="-1" style="display:none;font-size:0;line-height:0"></a>'


def track_links(issue, rendered):
    """The RenderedIssue with its links rewritten to short links (unchanged when the newsletter does not count)."""
    if not issue.newsletter.count_clicks:
        return rendered
    owners = _owners(issue)
    wanted = []
    for match in HREF.finditer(rendered.html):
        url = _html.unescape(match.group(1))
        if _personal(url):
            continue
        key = (owners.get(url), url, False)
        if key not in wanted:
            wanted.append(key)
    wanted.append((None, absolute(issue.get_absolute_url()), True))
    links = _links(issue, wanted)

    def short(url):
        return absolute(links[(owners.get(url), url, False)].path)

    def rewrite(m):
        url = _html.unescape(m.group(1))
        return m[0] if _personal(url) else f'href="{_html.escape(short(url))}"'

    html = HREF.sub(rewrite, rendered.html)
    canary = CANARY.format(url=_html.escape(absolute(links[wanted[-1]].path)))
    head, body_end, tail = html.rpartition("</body>")
    html = f"{head}{canary}{body_end}{tail}" if body_end else html + canary
    text = _rewrite_text(rendered.text, {url: short(url) for _, url, canary in wanted if not canary})
    return dataclasses.replace(rendered, html=html, text=text)


def _personal(url):
    """A link with a recipient's own part (the web links' reader token): filled per recipient, never shortened."""
    return "%%" in url


def _owners(issue):
    """{url: top-level section id} for the links in the sections' text and link lists (first section wins)."""
    owners = {}
    sections = list(Section.objects.filter(issue=issue).prefetch_related("links"))
    top = {s.pk: s for s in sections if s.parent_id is None}
    ordered = sorted(sections, key=lambda s: _order(s, top))
    for section in ordered:
        owner = section.parent_id or section.pk
        shown = section.body_html + (section.booking_html if section.booking else "")
        for match in HREF.finditer(shown):
            owners.setdefault(_html.unescape(match.group(1)), owner)
        for link in section.links.all():
            owners.setdefault(link.url, owner)
    return owners


def _order(section, top):
    parent = top.get(section.parent_id) if section.parent_id else section
    if parent is None:
        return (1 << 30, 0, 0, section.pk)
    return (parent.position, parent.pk, 0 if section.parent_id is None else 1 + section.position, section.pk)


def _links(issue, wanted):
    """{(section id, url, canary): TrackedLink}: the issue's existing rows reused (editions share them), the rest
    created in the order they appear, after the issue's last position."""
    existing = {(link.section_id, link.url, link.canary): link for link in TrackedLink.objects.filter(issue=issue)}
    position = max((link.position for link in existing.values()), default=0)
    new = []
    for section_id, url, canary in wanted:
        if (section_id, url, canary) not in existing:
            position += 1
            new.append(TrackedLink(issue=issue, section_id=section_id, url=url, canary=canary, position=position))
    for link in TrackedLink.objects.bulk_create(new):
        existing[(link.section_id, link.url, link.canary)] = link
    if any(link.pk is None for link in existing.values()):  # a backend that returns no ids from bulk_create
        existing = {(link.section_id, link.url, link.canary): link for link in TrackedLink.objects.filter(issue=issue)}
    return existing


def _rewrite_text(text, shorts):
    """Each known address in the plain text, as a whole word (not a prefix of a longer one), by its short link."""
    if not shorts:
        return text
    alternatives = "|".join(re.escape(url) for url in sorted(shorts, key=len, reverse=True))
    pattern = re.compile(r"(?<![\w/])(" + alternatives + r")(?=[\s)\].,;:!?>]|$)")
    return pattern.sub(lambda m: shorts[m.group(1)], text)
