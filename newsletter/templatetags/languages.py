"""Languages in templates: `{% html_lang %}` for `<html lang>`, `{% language_alternates %}` for the
`<link rel="alternate" hreflang>` tags in a page's head, `{% language_switch %}` for the link to the same
page in the other language (newsletter.languages holds the URL scheme)."""

from django import template
from django.conf import settings

from newsletter import languages

register = template.Library()


@register.simple_tag
def html_lang():
    """The active language in BCP 47 form (`en-GB`, `cy`)."""
    return languages.bcp47()


def _alternates(context):
    request = context.get("request")
    if request is None:
        return []
    return languages.alternates(request.get_full_path())


@register.inclusion_tag("_language_alternates.html", takes_context=True)
def language_alternates(context):
    """hreflang links with absolute URLs for every language, and x-default (the default language's)."""
    found = _alternates(context)
    default = next((a for a in found if a["code"] == languages.default()), None)
    return {"alternates": found, "x_default": default, "SITE_URL": settings.SITE_URL}


@register.inclusion_tag("_language_switch.html", takes_context=True)
def language_switch(context):
    """Links to this page in every other language, each named in its own language."""
    return {"others": [a for a in _alternates(context) if not a["current"]]}
