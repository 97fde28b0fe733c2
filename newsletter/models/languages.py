"""Languages of a newsletter, of its text and of its readers: which text a reader of a language sees.

A newsletter has a language (Newsletter.language, one of settings.LANGUAGES, English unless set) and, when
it is bilingual, a second one (Newsletter.second_language). An issue's text in the newsletter's language is
in its plain fields (title, subject, preheader, intro, sign_off); its text in the second language in the same
fields prefixed `second_` on the same row. A section is the same: one row holds both languages (heading
and second_heading, …).

Why one row per section and not one section per language: the two languages of a section are one thing
with one place in the issue, one kind, one event date, the same links, images and topics. On one row the
editor writes both in one form (the fields side by side), reordering, nesting, duplicating or removing a
section moves both at once, and "present in one language, missing in the other" is a look at two fields of
the same row (missing_text()) instead of a matching of rows that could drift apart.

A reader's language (Subscriber.language) is one of LANGUAGES, or "" for the newsletter's own. What a reader
gets from a newsletter (reader_language) is their language when the newsletter is written in it, else the
newsletter's language. A text missing in the second language falls back to the newsletter's language, field by
field, never to an empty string; a section not written in the page's language at all is marked
(`fallback_lang`) so the page and the email carry the right `lang` attribute on it.
"""

import copy

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from newsletter import languages as site_languages
from newsletter.languages import bcp47

DEFAULT_LANGUAGE = settings.LANGUAGE_CODE  # "en-gb": English
SECOND_PREFIX = "second_"
ISSUE_TEXT_FIELDS = ("title", "subject", "preheader", "intro", "sign_off")
SECTION_TEXT_FIELDS = ("heading", "body_markdown", "source", "venue", "fee", "booking")
# What makes a section "written" in a language (the rest — source, venue, fee, booking — may stay the same).
SECTION_MAIN_FIELDS = ("heading", "body_markdown")
FIELD_NAMES = {
    "title": "title",
    "subject": "subject line",
    "preheader": "preheader",
    "intro": "introduction",
    "sign_off": "sign-off",
    "heading": "heading",
    "body_markdown": "text",
    "source": "source",
    "venue": "venue",
    "fee": "fee",
    "booking": "booking",
}


def language_choices():
    """The site's languages (settings.LANGUAGES), for the model fields' choices."""
    return [(code, name) for code, name in settings.LANGUAGES]


def language_name(code):
    """The language's name in itself ("English", "Cymraeg"), as settings.LANGUAGES gives it."""
    return str(dict(settings.LANGUAGES).get(code, code))


def second(name):
    return SECOND_PREFIX + name


def newsletter_languages(newsletter):
    """(language,) or (language, second language)."""
    first = newsletter.language or DEFAULT_LANGUAGE
    other = newsletter.second_language
    return (first, other) if other and other != first else (first,)


def reader_language(newsletter, language):
    """The language a reader of `language` ("" for none chosen) gets this newsletter in."""
    languages = newsletter_languages(newsletter)
    return language if language in languages else languages[0]


def page_language(newsletter, language=None):
    """The language of the newsletter's content on a page in `language` (default: the active one)."""
    return reader_language(newsletter, site_languages.supported(language) if language else site_languages.current())


def is_second(newsletter, language):
    languages = newsletter_languages(newsletter)
    return len(languages) == 2 and language == languages[1]


def _pick(obj, name):
    """The second language's text of `name`, or the first language's when that one is blank."""
    text = getattr(obj, second(name), "")
    return text if text.strip() else getattr(obj, name)


def issue_in(issue, language):
    """A copy of the issue (never saved) whose text fields hold `language`'s text, each falling back to the
    newsletter's language when blank (the subject line to the title in `language` first). The newsletter's own
    language: the issue itself."""
    if not is_second(issue.newsletter, language):
        return issue
    shown = copy.copy(issue)
    for name in ISSUE_TEXT_FIELDS:
        setattr(shown, name, _pick(issue, name))
    if not issue.second_subject.strip() and issue.second_title.strip():
        shown.subject = (
            issue.second_title
        )  # the inbox shows the reader's language: its title before the other's subject
    shown.content_language = language
    return shown


def titles_in(issues, language=None):
    """Lists of issues (read, never saved): each title in the page's language where its newsletter is written in
    it (the first language's when blank). Touches only titles, so a list's deferred fields stay unread."""
    for issue in issues:
        if is_second(issue.newsletter, page_language(issue.newsletter, language)):
            issue.title = _pick(issue, "title")
    return issues


def section_in(section, language, newsletter):
    """Show the section (a row fetched for reading, changed in place, never saved) in `language`: its text
    fields, body_html included, hold that language's text, each falling back to the newsletter's language when
    blank. `fallback_lang` is the newsletter's language (for a `lang` attribute) when the section is not written in
    `language` at all."""
    section.fallback_lang = ""
    if not is_second(newsletter, language):
        return section
    if not section_written(section, second_language=True) and section_written(section, second_language=False):
        section.fallback_lang = bcp47(newsletter_languages(newsletter)[0])
    if section.second_body_markdown.strip():
        section.body_html = section.second_body_html
    for name in SECTION_TEXT_FIELDS:
        setattr(section, name, _pick(section, name))
    return section


def sections_in(sections, language, newsletter):
    """section_in for top-level sections and their prefetched digest items (`ordered_items`)."""
    for section in sections:
        section_in(section, language, newsletter)
        for item in getattr(section, "ordered_items", ()):
            section_in(item, language, newsletter)
    return sections


def section_written(section, second_language):
    names = [second(n) if second_language else n for n in SECTION_MAIN_FIELDS]
    return any(getattr(section, n).strip() for n in names)


def missing_text(obj, names):
    """([fields written in the first language only], [fields written in the second only]) of an issue or
    section: what the pre-send check tells the editor."""
    first_only, second_only = [], []
    for name in names:
        first, other = getattr(obj, name).strip(), getattr(obj, second(name)).strip()
        if first and not other:
            first_only.append(name)
        elif other and not first:
            second_only.append(name)
    return first_only, second_only


class NewsletterLanguages(models.Model):
    """Newsletter's languages: its own, and a second one when it is bilingual."""

    language = models.CharField(max_length=10, choices=language_choices, default=DEFAULT_LANGUAGE)
    second_language = models.CharField(
        max_length=10,
        choices=language_choices,
        blank=True,
        help_text="Bilingual: each issue is written in both languages and each reader chooses one.",
    )

    second_welcome_message = models.TextField(
        "welcome message in the second language", blank=True, help_text="Markdown; blank: the first language's."
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.second_language and self.second_language == self.language:
            raise ValidationError({"second_language": "Choose a language other than its first, or none."})

    @property
    def languages(self):
        return newsletter_languages(self)

    @property
    def is_bilingual(self):
        return len(self.languages) == 2

    def welcome_in(self, language):
        """The welcome message readers of `language` get (the first language's when not written in it)."""
        if is_second(self, language) and self.second_welcome_message.strip():
            return self.second_welcome_message
        return self.welcome_message


class IssueSecondLanguage(models.Model):
    """Issue's text in its newsletter's second language, when the newsletter is bilingual."""

    second_title = models.CharField("title", max_length=300, blank=True)
    second_subject = models.CharField("subject line", max_length=200, blank=True)
    second_preheader = models.CharField("preheader", max_length=200, blank=True)
    second_intro = models.TextField("intro", blank=True, help_text="Markdown.")
    second_sign_off = models.TextField("sign off", blank=True, help_text="Markdown; only a trailing P.S.")

    class Meta:
        abstract = True

    def second_language_copy(self):
        """The second language's fields for a draft copied from this issue (its subject as Issue.copy_as_draft)."""
        copied = {second(name): getattr(self, second(name)) for name in ISSUE_TEXT_FIELDS}
        return copied | {"second_subject": self.second_subject or self.second_title}
