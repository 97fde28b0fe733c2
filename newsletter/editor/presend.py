"""The pre-send check: what an editor should see before an issue goes out. It never blocks a send.

Each finding names the section it is in. Most are warnings; an error (`level == "error"`) is
something subscribers would certainly see go wrong: mail from a local address such as
newsletter@localhost, or an empty section or group that would go out as a bare heading.

The check renders the email with the same code as the send (rendering.render_issue) and builds
one real message (mail.message.IssueEmail), so what it checks is what subscribers would get.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes
from html.parser import HTMLParser

from django.urls import reverse
from django.utils import translation

from newsletter.editor import linkcheck
from newsletter.markup import markdown_to_html
from newsletter.models.languages import (
    FIELD_NAMES,
    ISSUE_TEXT_FIELDS,
    SECTION_MAIN_FIELDS,
    language_name,
    missing_text,
)
from newsletter.rendering import HTML_SIZE_WARNING
from newsletter.tokens import absolute

# Link text that tells a reader nothing about where it goes.
VAGUE_LINK_TEXT = {"click here", "here", "read more", "more", "link", "this link", "this", "click", "go"}
# Pointers to a link that is not there (an import lost it, or the editor forgot it).
DANGLING_POINTER = re.compile(
    r"\b(read the full (article|report|story)|download the (full )?report|see the full|click here"
    r"|more information here)[^.]*\.?$",
    re.I,
)
REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                    "List-Unsubscribe-Post")  # fmt: skip
HREF = re.compile(r'href="([^"]+)"')


@dataclass
class Finding:
    check: str  # links, link-text, images, headings, plain-text, size, headers, sender, empty, language
    message: str
    section: str | None = None  # the heading of the section it is in, when it is in one
    level: str = "warning"  # or "error"

    @property
    def where(self):
        return self.section or "the whole issue"

    @property
    def is_error(self):
        return self.level == "error"


class _Scanner(HTMLParser):
    """Anchors with their text, images and their alt text, headings, and paragraphs, from one section's HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors, self.images, self.headings, self.paragraphs = [], [], [], []
        self._anchor = self._paragraph = None
        self._paragraph_has_link = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self._anchor = [attrs.get("href", ""), ""]
            self._paragraph_has_link = True
        elif tag == "img":
            self.images.append(attrs.get("alt"))
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        elif tag in ("p", "li"):
            self._paragraph, self._paragraph_has_link = "", False

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor:
            self.anchors.append(tuple(self._anchor))
            self._anchor = None
        elif tag in ("p", "li") and self._paragraph is not None:
            self.paragraphs.append((self._paragraph.strip(), self._paragraph_has_link))
            self._paragraph = None

    def handle_data(self, data):
        if self._anchor is not None:
            self._anchor[1] += data
        if self._paragraph is not None:
            self._paragraph += data


def _scan(html):
    scanner = _Scanner()
    scanner.feed(html)
    return scanner


def _section_findings(label, html):
    findings = []
    scan = _scan(html)
    for _href, text in scan.anchors:
        if " ".join(text.lower().split()).strip(".:!") in VAGUE_LINK_TEXT:
            findings.append(Finding("link-text", f"The link “{text.strip()}” does not say where it goes.", label))
    for paragraph, has_link in scan.paragraphs:
        if not has_link and DANGLING_POINTER.search(paragraph):
            findings.append(Finding("link-text", f"“{paragraph[:80]}” points to a link that is not there.", label))
    for alt in scan.images:
        if not (alt or "").strip():
            findings.append(Finding("images", "An image has no alt text.", label))
    # Inside a section, the email and web page use h2 for the section heading: body headings start at h3.
    previous = 2
    for level in scan.headings:
        if level <= 2:
            findings.append(Finding("headings", f"A level-{level} heading inside a section: use ### or lower.", label))
        elif level > previous + 1:
            findings.append(Finding("headings", f"A heading jumps from level {previous} to {level}.", label))
        previous = max(level, 3)
    return findings


def _link_findings(issue):
    findings = []
    checked = linkcheck.last_results(issue)
    if checked is None:
        return [Finding("links", "Links have not been checked yet: run the link check.")]
    results = checked.get("results", {})
    places = [("Introduction", [], issue.intro_html), ("Sign-off", [], issue.sign_off_html)]
    for section in issue.sections.select_related("parent").prefetch_related("links"):
        label = section.heading or section.get_kind_display()
        places.append((label, [link.url for link in section.links.all()], section.body_html))
    for label, link_urls, body_html in places:
        for url in dict.fromkeys(link_urls + linkcheck.hrefs(body_html)):
            status, error = results.get(url, (None, None))
            if error or (status is not None and status >= 400):
                findings.append(Finding("links", f"Broken link {url} ({error or f'HTTP {status}'}).", label))
    return findings


def run(issue):
    """Every finding for the issue as it is now."""
    from newsletter.mail.message import IssueEmail
    from newsletter.rendering import render_issue

    findings = _link_findings(issue)
    for section in issue.sections.order_by("position"):
        label = section.heading or section.get_kind_display()
        findings += _section_findings(label, section.body_html + markdown_to_html(section.booking))
        for image in section.images.all():
            if not image.alt_text.strip():
                findings.append(Finding("images", f"The image {image.image.name} has no alt text.", label))
    findings += _section_findings(None, markdown_to_html(issue.intro) + markdown_to_html(issue.sign_off))

    languages = issue.newsletter.languages
    for language in languages:  # the email each language's readers get (a bilingual newsletter's two)
        rendered = render_issue(issue, language=language)
        part = f"In {language_name(language)}, the" if len(languages) > 1 else "The"
        with translation.override(language):
            own_page = absolute(issue.get_absolute_url())  # "In this issue": the text part lists them
        for url in dict.fromkeys(HREF.findall(rendered.html)):
            url = url.replace("&amp;", "&")
            if url.startswith(own_page) and "#" in url:
                continue
            if url.startswith(("http", "mailto:")) and url.removeprefix("mailto:") not in rendered.text:
                findings.append(Finding("plain-text", f"{part} plain-text part lacks the link {url}."))
        if rendered.html_size > HTML_SIZE_WARNING:
            size = rendered.html_size // 1024
            findings.append(Finding("size", f"{part} HTML part is {size} KB; Gmail clips messages past about 102 KB."))
        email = IssueEmail(issue, subject=rendered.subject, html=rendered.html, text=rendered.text, language=language)
        sample = email.build(delivery_id=None, subscriber_id=0, address="reader@example.org", name="Reader")
        headers = message_from_bytes(sample.raw)
        for name in REQUIRED_HEADERS:
            if not headers.get(name):
                findings.append(Finding("headers", f"The {name} header is missing."))
    findings += _language_findings(issue)
    findings += _sender_findings(issue.newsletter)
    findings += _empty_section_findings(issue)
    return findings


def _language_findings(issue):
    """A bilingual newsletter: the issue's fields and each section written in one language but not the other.
    Readers of the other language would get the first language's text there (models/languages.py)."""
    languages = issue.newsletter.languages
    if len(languages) < 2:
        return []
    names = [language_name(language) for language in languages]

    def said(fields, written, missing):
        listed = ", ".join(FIELD_NAMES[name] for name in fields)
        return f"Written in {written} but not in {missing}: {listed}. Readers in {missing} would get the {written}."

    findings = []
    first_only, second_only = missing_text(issue, ISSUE_TEXT_FIELDS)
    for fields, written, missing in ((first_only, *names), (second_only, *reversed(names))):
        if fields:
            findings.append(Finding("language", said(fields, written, missing)))
    sections = list(issue.sections.select_related("parent").order_by("position", "id"))
    by_id = {section.pk: section for section in sections}
    for section in sections:
        first_only, second_only = missing_text(section, SECTION_MAIN_FIELDS)
        label = section.heading or section.get_kind_display()  # as the composer names it (compose._findings)
        parent = by_id.get(section.parent_id)
        if parent is not None:
            label = f"{parent.heading or parent.get_kind_display()} › {label}"
        for fields, written, missing in ((first_only, *names), (second_only, *reversed(names))):
            if fields:
                findings.append(Finding("language", said(fields, written, missing), label))
    return findings


def _sender_findings(newsletter):
    """An error when the mail would come from a local address (no sender set, and DEFAULT_FROM_EMAIL is local)."""
    from newsletter.mail.headers import domain_of, is_local_domain, sender

    address = sender(newsletter)[1]
    if not is_local_domain(domain_of(address)):
        return []
    where = reverse("admin:newsletter_newsletter_change", args=[newsletter.pk])
    if newsletter.sender_email:
        problem = f"The sender's address {address} is on a local domain"
    else:
        problem = f"{newsletter.name} has no sender address, so this issue would come from {address}"
    return [
        Finding(
            "sender",
            f"{problem}: mail servers refuse or bin mail from it. Set the sender's name and address "
            f"on the newsletter's admin page ({where}).",
            level="error",
        )
    ]


def _has_content(section):
    return bool(
        section.body_html.strip()
        or section.links.all()
        or section.images.all()
        or (section.is_event and (section.event_date or section.event_time or section.venue or section.booking))
    )


def _empty_section_findings(issue):
    """An error for each section, digest group or digest item with nothing in it but its heading."""
    findings = []
    sections = issue.sections.prefetch_related("links", "images").order_by("position", "id")
    items = {}
    for section in sections:
        if section.parent_id:
            items.setdefault(section.parent_id, []).append(section)
    for section in sections:
        if section.parent_id:
            continue
        label = section.heading or section.get_kind_display()
        full_items = [item for item in items.get(section.pk, []) if _has_content(item)]
        if not _has_content(section) and not full_items:
            what = "group" if section.kind == section.Kind.DIGEST else "section"
            message = f"This {what} is empty: subscribers would get its heading and nothing under it. "
            message += "Write it, or delete it before sending."
            findings.append(Finding("empty", message, label, level="error"))
            continue
        for item in items.get(section.pk, []):
            if not _has_content(item):
                item_label = f"{label} › {item.heading or item.get_kind_display()}"
                message = "This item is empty: it would go out as a bare heading. Write it, or delete it."
                findings.append(Finding("empty", message, item_label, level="error"))
    return findings
