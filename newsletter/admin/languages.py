"""A bilingual newsletter's issues in the admin: both languages in one form, side by side.

On a bilingual newsletter's issue (newsletter.models.languages) each text field stands beside its second
language's on one row: "Title (English)" beside "Title (Cymraeg)", the sections' heading, text, source, venue,
fee and booking the same in the sections inline and on a section's own page. Each field says its language
in its label and in a `lang` attribute, so a screen reader reads it and a spell checker checks it in that
language. A newsletter in one language shows the fields as before, without the second language's.
"""

from newsletter.languages import bcp47
from newsletter.models.languages import SECOND_PREFIX, language_name, newsletter_languages

ISSUE_PAIRS = ("title", "subject", "preheader", "intro", "sign_off")
SECTION_PAIRS = ("heading", "body_markdown", "source", "venue", "fee", "booking")


def label_languages(form, languages):
    """Name each text field's language in its label and its `lang` attribute (two languages only)."""
    if len(languages) < 2:
        return
    for name, field in form.fields.items():
        base = name.removeprefix(SECOND_PREFIX)
        if base not in ISSUE_PAIRS + SECTION_PAIRS:
            continue
        language = languages[1] if name.startswith(SECOND_PREFIX) else languages[0]
        label = form._meta.model._meta.get_field(base).verbose_name
        field.label = f"{str(label)[:1].upper()}{str(label)[1:]} ({language_name(language)})"
        field.widget.attrs["lang"] = bcp47(language)


def paired(fields, pairs):
    """Admin field rows with each name in `pairs` beside its second language's (on the same row)."""
    rows = []
    for row in fields:
        if isinstance(row, str) and row in pairs:
            rows.append((row, SECOND_PREFIX + row))
        elif isinstance(row, tuple) and any(name in pairs for name in row):
            for name in row:
                rows.append((name, SECOND_PREFIX + name) if name in pairs else name)
        else:
            rows.append(row)
    return rows


def languages_of(issue):
    """The languages of the issue's newsletter; () for an issue not saved yet."""
    return newsletter_languages(issue.newsletter) if issue is not None and issue.newsletter_id else ()


class BilingualIssueMixin:
    """For IssueAdmin: the second language's fields beside the first's on a bilingual newsletter's issue."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if len(languages_of(obj)) < 2:
            return fieldsets
        return [(name, {**options, "fields": paired(options["fields"], ISSUE_PAIRS)}) for name, options in fieldsets]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        languages = languages_of(obj)
        return type(form.__name__, (form,), {"languages": languages}) if len(languages) == 2 else form

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        locked = [SECOND_PREFIX + name for name in fields if name in ISSUE_PAIRS]  # what was mailed, in both
        return fields + locked


class BilingualSectionsMixin:
    """For the sections inline (obj: the issue) and a section's own page (obj: the section)."""

    def _languages(self, obj):
        issue = getattr(obj, "issue", obj) if obj is not None else None
        return languages_of(issue)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if not str(f).startswith(SECOND_PREFIX)]
        return paired(fields, SECTION_PAIRS) if len(self._languages(obj)) == 2 else fields

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        languages = self._languages(obj)
        if len(languages) == 2:
            formset.form = type(formset.form.__name__, (formset.form,), {"languages": languages})
        return formset

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        languages = self._languages(obj)
        return type(form.__name__, (form,), {"languages": languages}) if len(languages) == 2 else form
