"""The site's languages and its one URL scheme for them (docs/translating.md). A leaf.

Codes are Django's, from settings.LANGUAGES: `en-gb` (English, the default, LANGUAGE_CODE) and `cy`
(Welsh). A public page's English address is today's, with no prefix; its Welsh address is the same
path under `/cy/` (i18n_patterns with prefix_default_language=False, config/urls.py). The admin,
the JSON API, /health/ and the like have no language prefix at all.

`lang` and `hreflang` attributes take the BCP 47 form (`en-GB`, `cy`): `bcp47()`.
"""

from django.conf import settings
from django.utils import translation


def codes():
    """Every language code the site speaks, the default first."""
    return [code for code, _name in settings.LANGUAGES]


def default():
    return settings.LANGUAGE_CODE


def supported(code):
    """The site's code for `code` (any case, `en` or `en-US` → `en-gb`), or the default when it has none."""
    if code:
        try:
            return translation.get_supported_language_variant(str(code).lower())
        except LookupError:
            pass
    return default()


def current():
    """The active language as one of codes() (the default when none is active)."""
    return supported(translation.get_language())


def bcp47(code=None):
    """`en-gb` → `en-GB`, `cy` → `cy`: the form for `lang` and `hreflang` attributes."""
    return translation.to_locale(code or current()).replace("_", "-")


def name(code):
    """A language's name in that language ("English", "Cymraeg"), as a switch between them shows it."""
    return dict(settings.LANGUAGES)[code]


def _prefixed():
    return [code for code in codes() if code != default()]


def split_path(path):
    """(language code, the path as the default language's) for a site path such as `/cy/search/?q=x`."""
    for code in _prefixed():
        prefix = f"/{code}/"
        if path == f"/{code}" or path.startswith(prefix):
            return code, "/" + path[len(prefix) :]
    return default(), path


def path_in(path, code):
    """The same page's path in language `code`: `/search/?q=x` ↔ `/cy/search/?q=x`."""
    _language, bare = split_path(path)
    if code == default():
        return bare
    return f"/{code}{bare}"


def alternates(path):
    """Every language's version of the page at `path`: dicts of code, hreflang, name, path, current."""
    here, _bare = split_path(path)
    return [
        {
            "code": code,
            "hreflang": bcp47(code),
            "name": name(code),
            "path": path_in(path, code),
            "current": code == here,
        }
        for code in codes()
    ]
