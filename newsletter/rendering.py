"""Issue → email and web HTML and plain text, rendered once per issue; one section preparation
for the archive, the email and the editor's previews (Markdown itself: newsletter.markup)."""

import html as _html
import textwrap
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, pgettext, pgettext_lazy

from newsletter import tokens
from newsletter.markup import markdown_to_html
from newsletter.models import Link, Section, SectionImage
from newsletter.models.languages import issue_in, sections_in

# Issue → email ---------------------------------------------------------------------
#
# An issue is rendered once (template, CSS inlining, plain text) into a RenderedIssue whose
# personal parts are placeholders; each recipient's copy is then made by plain string
# substitution (personalise), so sending costs no template run and no CSS inlining per person.

EMAIL_TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "email"
GREETING = "%%GREETING%%"
UNSUBSCRIBE_URL = "%%UNSUBSCRIBE_URL%%"
PREFERENCES_URL = "%%PREFERENCES_URL%%"
# The recipient's reader token on every web link (newsletter/tokens.py): a subscribers-only issue opens for it, so the
# links keep working whatever the issue's visibility becomes after it is mailed; other pages redirect it away.
READER_TOKEN = "%%READER_TOKEN" + "_" * 25 + "%%"  # as long as a token (tokens.READER_TOKEN_LENGTH)
PLACEHOLDERS = (GREETING, UNSUBSCRIBE_URL, PREFERENCES_URL, READER_TOKEN)
# Gmail clips messages whose HTML passes about 102 KB; we warn a little before that.
HTML_SIZE_WARNING = 100 * 1024
TEXT_WIDTH = 72


@dataclass(frozen=True)
class RenderedIssue:
    """What is mailed for one issue: placeholders stand where each recipient's own parts go."""

    subject: str
    preheader: str
    html: str
    text: str

    @property
    def html_size(self):
        return len(self.html.encode("utf-8"))

    @property
    def too_big(self):
        return self.html_size > HTML_SIZE_WARNING


def render_issue(issue, *, sections=None, web_url=None, language=None) -> RenderedIssue:
    """Render the issue's email once: the layout with CSS inlined, and a plain-text part from the same content.

    `sections` (from render_editions) renders an edition: only those sections, in the contents list and the
    text part too, with `web_url` the edition's web page. `language` (default: the newsletter's) is one of the
    newsletter's languages (newsletter.models.languages): its text, its fixed parts under translation.override,
    and links to the pages in that language."""
    language = language or issue.newsletter.languages[0]
    with translation.override(language):
        return _render_issue(issue, sections, web_url, language)


def _render_issue(issue, sections, web_url, language):
    import css_inline
    from django.template.loader import render_to_string

    from newsletter.tokens import absolute

    newsletter = issue.newsletter
    sections = _email_sections(issue, language) if sections is None else sections
    issue = issue_in(issue, language)
    web_url = web_url or absolute(issue.get_absolute_url())
    web_url = f"{web_url}{'&' if '?' in web_url else '?'}token={READER_TOKEN}"
    subject = issue.subject or issue.title
    context = {
        "language": language,
        "issue": issue,
        "newsletter": newsletter,
        "subject": subject,
        "preheader": issue.preheader,
        "sections": sections,
        "intro_html": markdown_to_html(issue.intro),
        "sign_off_html": markdown_to_html(issue.sign_off),
        "intro_text": html_to_text(markdown_to_html(issue.intro)),
        "sign_off_text": html_to_text(markdown_to_html(issue.sign_off)),
        # "In this issue" links to its sections there
        "web_url": web_url,
        "sent_by": _sent_by(newsletter),
        "subscribe_url": absolute(_subscribe_path()),
        "site_host": urlsplit(absolute("/")).netloc,
        "greeting_placeholder": GREETING,
        "unsubscribe_placeholder": UNSUBSCRIBE_URL,
        "preferences_placeholder": PREFERENCES_URL,
        "css": (EMAIL_TEMPLATE_DIR / "issue-style.css").read_text(),
    }
    page = render_to_string("email/issue-body.html", context)
    # Inline once per issue; @media rules (dark mode, narrow screens) stay in <style>.
    inlined = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False).inline(page)
    text = render_to_string("email/issue-body.txt", context)
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return RenderedIssue(subject=subject, preheader=issue.preheader, html=inlined, text=text)


def render_editions(issue, editions):
    """One RenderedIssue per (section ids, web URL[, language]): the sections are read and prepared once per
    language for all of them, so the queries do not grow with the number of editions or topics; each edition
    costs one template run."""
    prepared = {}
    rendered = []
    for section_ids, web_url, *language in editions:
        language = language[0] if language and language[0] else issue.newsletter.languages[0]
        if language not in prepared:  # the sections read and prepared once per language
            with translation.override(language):
                prepared[language] = {section.pk: section for section in _email_sections(issue, language)}
        by_id = prepared[language]
        subset = PreparedSections(by_id[pk] for pk in section_ids if pk in by_id)
        titled = [section for section in subset if section.heading]
        subset.contents = titled if len(titled) >= 2 else []
        rendered.append(render_issue(issue, sections=subset, web_url=web_url, language=language))
    return rendered


def issue_section_ids(issue):
    """The issue's top-level section ids in reading order."""
    return list(
        Section.objects.filter(issue=issue, parent=None).order_by("position", "id").values_list("pk", flat=True)
    )


def _sent_by(newsletter):
    """The sender's name for the footer, or "" when it is the newsletter's own (said once, not twice)."""
    name = " ".join(newsletter.sender_name.split())
    return "" if name.casefold() in ("", " ".join(newsletter.name.split()).casefold()) else name


def greetings():
    """(with a name, without): the greeting in the active language. Worked out once per email and language
    (mail.message.IssueEmail), so each recipient costs a substitution, not a catalogue look-up."""
    return gettext("Hello %(name)s,"), gettext("Hello,")


def substitutions(
    *, name: str, unsubscribe_url: str, preferences_url: str, greeting_forms=None, reader_token: str = ""
):
    """(for HTML, for text): what each placeholder becomes for one recipient; `greeting_forms` from greetings();
    a reader token is URL-safe."""
    named, unnamed = greeting_forms or greetings()
    greeting = named % {"name": name} if name else unnamed
    text = {GREETING: greeting, UNSUBSCRIBE_URL: unsubscribe_url, PREFERENCES_URL: preferences_url}
    text[READER_TOKEN] = reader_token
    html = {GREETING: _html.escape(greeting, quote=False), READER_TOKEN: reader_token}
    html |= {UNSUBSCRIBE_URL: _html.escape(unsubscribe_url), PREFERENCES_URL: _html.escape(preferences_url)}
    return html, text


def fill(template: str, values: dict) -> str:
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def personalise(html: str, text: str, *, name: str, unsubscribe_url: str, preferences_url: str, reader_token=""):
    """One recipient's HTML and text: plain substitution of the placeholders, nothing else."""
    html_values, text_values = substitutions(
        name=name, unsubscribe_url=unsubscribe_url, preferences_url=preferences_url, reader_token=reader_token
    )
    return fill(html, html_values), fill(text, text_values)


def _subscribe_path():
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("subscriptions:subscribe")
    except NoReverseMatch:
        return "/subscribe/"


# Contents-list labels for sections without a heading, in the reader's language.
UNTITLED = {
    "article": pgettext_lazy("section kind", "Article"),
    "event": pgettext_lazy("section kind", "Event"),
    "digest": pgettext_lazy("section kind", "Digest group"),
    "digest_item": pgettext_lazy("section kind", "Digest item"),
    "column": pgettext_lazy("section kind", "Column"),
    "closing": pgettext_lazy("section kind", "And lastly…"),
}


def top_level_sections():
    """Top-level sections in order, each with its digest items (`ordered_items`) and both with their links
    (`ordered_links`) prefetched, and whether it has uploaded images (`has_images`, so an issue without any
    costs no query for them): a fixed number of queries however many sections there are."""
    links = Prefetch("links", to_attr="ordered_links")
    has_images = Exists(SectionImage.objects.filter(section=OuterRef("pk")))
    items = Section.objects.order_by("position", "id").annotate(has_images=has_images).prefetch_related(links)
    return (
        Section.objects.filter(parent=None)
        .order_by("position", "id")
        .annotate(has_images=has_images)
        .prefetch_related(links, Prefetch("items", queryset=items, to_attr="ordered_items"))
    )


def load_top_sections(issue):
    """What top_level_sections() gives for one issue (the top-level sections in order, each with `ordered_items`,
    both with `ordered_links` and `has_images`) in two queries whatever the nesting: all the issue's sections,
    then all their links. The archive's issue page uses it (issue 17: four prefetch queries were two)."""
    has_images = Exists(SectionImage.objects.filter(section=OuterRef("pk")))
    sections = list(Section.objects.filter(issue=issue).annotate(has_images=has_images).order_by("position", "id"))
    links = {}
    for link in Link.objects.filter(section__issue=issue).order_by("position", "id"):
        links.setdefault(link.section_id, []).append(link)
    top, items = [], {}
    for section in sections:
        Section.issue.field.set_cached_value(section, issue)
        section.ordered_links = links.get(section.pk, [])
        if section.parent_id is None:
            top.append(section)
        else:
            items.setdefault(section.parent_id, []).append(section)
    for section in top:
        section.ordered_items = items.get(section.pk, [])
    return top


class PreparedSections(list):
    """prepare_sections' result: the sections, and `contents`, the ones a contents list names (it may be empty)."""

    contents = ()


def prepare_sections(sections):
    """The one section preparation, for the archive page, the email and the editor's previews: a label for each
    section, the links an editor added that the text does not already show (`extra_links`), and the contents list:
    the sections with a heading, when there are two or more (a list of one, or of labels no heading shows on the
    page, does not help a reader)."""
    parts = [part for section in sections for part in (section, *section.ordered_items)]
    images = _images_by_section([part.pk for part in parts if getattr(part, "has_images", True)])
    for section in sections:
        for part in (section, *section.ordered_items):
            part.shown_images = images.get(part.pk, [])
            part.label = part.heading or str(UNTITLED.get(part.kind) or part.get_kind_display())
            shown = _html.unescape(part.body_html + (part.booking_html if part.booking else ""))
            part.extra_links = [link for link in part.ordered_links if f'href="{link.url}"' not in shown]
    prepared = PreparedSections(sections)
    titled = [section for section in prepared if section.heading]
    prepared.contents = titled if len(titled) >= 2 else []
    return prepared


EMAIL_IMAGE_WIDTH = 552  # the email's 600-pixel column less its padding


def _images_by_section(section_ids):
    """Every uploaded image of these sections in one query, each with its absolute URL (mail needs one) and
    the width the email gives it (Outlook honours only the attribute)."""
    images = {}
    if not section_ids:
        return images
    for image in SectionImage.objects.filter(section_id__in=section_ids).order_by("position", "id"):
        image.src = tokens.absolute(image.image.url)
        image.email_width = min(image.width or EMAIL_IMAGE_WIDTH, EMAIL_IMAGE_WIDTH)
        images.setdefault(image.section_id, []).append(image)
    return images


def _email_sections(issue, language=None):
    """prepare_sections (the text in `language`), plus each section's plain-text version and its underline."""
    language = language or issue.newsletter.languages[0]
    top = list(top_level_sections().filter(issue=issue))
    top = prepare_sections(sections_in(top, language, issue.newsletter))
    for section in top:
        for part in (section, *section.ordered_items):
            part.text = _section_text(part)
        section.rule = "=" * min(TEXT_WIDTH, max(len(section.heading or section.label), 3))
    return top


def _section_text(section):
    booking_html = section.booking_html if section.booking else ""
    parts = []
    if section.is_event:
        facts = [
            (pgettext("event", "Date"), date_format(section.event_date, "l j F Y") if section.event_date else ""),
            (pgettext("event", "Time"), section.event_time.strftime("%H:%M") if section.event_time else ""),
            (gettext("Venue"), section.venue),
            (gettext("Fee"), section.fee),
            (gettext("Booking"), html_to_text(booking_html)),
        ]
        parts.append("\n".join(f"{label}: {value}" for label, value in facts if value))
    parts.append(html_to_text(section.body_html))
    parts.extend(
        gettext("[Image: %(alt)s]") % {"alt": image.alt_text} for image in getattr(section, "shown_images", ())
    )
    parts.extend(
        f"- {link.title}: {link.url}" if link.title and link.title != link.url else f"- {link.url}"
        for link in section.extra_links
    )
    if section.source:
        parts.append(f"({section.source})")
    return "\n\n".join(p for p in parts if p) + "\n"


class _TextWriter(HTMLParser):
    """Sanitised HTML → readable plain text: paragraphs wrapped, lists bulleted, links as 'text (URL)'."""

    BLOCKS = {"p", "h2", "h3", "h4", "ul", "ol", "blockquote", "pre", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks, self.line, self.lists, self.href, self.link_text, self.pre = [], [], [], None, [], False

    def _flush(self, prefix=""):
        text = "".join(self.line)
        self.line = []
        if self.pre:
            if text.strip("\n"):
                self.blocks.append(text.strip("\n"))
            return
        text = " ".join(text.split())
        if not text:
            return
        indent = "  " * max(len(self.lists) - 1, 0)
        first = indent + prefix
        self.blocks.append(
            textwrap.fill(
                text,
                TEXT_WIDTH,
                initial_indent=first,
                subsequent_indent=" " * len(first),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS or tag == "li":
            self._flush(self._bullet())
        if tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li" and self.lists:
            self.lists[-1][1] += 1
        elif tag == "br":
            self.line.append("\n" if self.pre else " ")
        elif tag == "hr":
            self.blocks.append("-" * 20)
        elif tag == "pre":
            self.pre = True
        elif tag == "a":
            self.href, self.link_text = dict(attrs).get("href"), []
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.line.append(f"[{alt}]")

    def _bullet(self):
        if not self.lists or not self._in_item:
            return ""
        kind, n = self.lists[-1]
        return f"{n}. " if kind == "ol" else "- "

    _in_item = False

    def handle_endtag(self, tag):
        if tag == "a" and self.href is not None:
            shown = " ".join("".join(self.link_text).split())
            url = self.href
            target = url[7:] if url.startswith("mailto:") else url
            if shown and shown not in (url, target):
                self.line.append(f" ({target})")
            elif not shown:
                self.line.append(target)
            self.href = None
        if tag == "li":
            self._in_item = True
            self._flush(self._bullet())
            self._in_item = False
        elif tag in self.BLOCKS:
            self._in_item = tag == "li"
            self._flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            if tag == "pre":
                self.pre = False

    def handle_data(self, data):
        self.line.append(data)
        if self.href is not None:
            self.link_text.append(data)

    def text(self):
        self._flush()
        return "\n\n".join(b for b in self.blocks if b.strip())


def html_to_text(html: str) -> str:
    """Plain text from our own sanitised HTML, keeping every link's address readable."""
    if not html:
        return ""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()
