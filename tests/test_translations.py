"""The Welsh catalogue is complete and shipped compiled; Welsh pages and mail are Welsh; a missing translation
falls back to English (docs/translating.md).

The catalogue test runs the real `makemessages` (the Makefile's MAKEMESSAGES_ARGS) on a copy of the code with
the shipped catalogue, so a string added anywhere a reader sees it fails here until it is translated.
"""

import gettext as gettext_module
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from newsletter.rendering import personalise, render_issue
from tests.services import require_service

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "cy" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
MAKEMESSAGES_ARGS = re.search(r"^MAKEMESSAGES_ARGS := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()


def require_gettext():
    require_service(shutil.which("msgfmt") and shutil.which("xgettext"), "needs GNU gettext (apt-get install gettext)")


def _key(entry):
    return f"{entry.msgctxt} | {entry.msgid}" if entry.msgctxt else entry.msgid


# The catalogue -------------------------------------------------------------------------------------------


def test_makemessages_finds_nothing_missing_untranslated_or_fuzzy(tmp_path):
    require_gettext()
    for part in ("newsletter", "templates", "config", "locale"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "manage.py", tmp_path)

    subprocess.run(
        [sys.executable, "manage.py", "makemessages", *MAKEMESSAGES_ARGS],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "VAR_DIR": str(tmp_path / "var")},
    )

    fresh = polib.pofile(str(tmp_path / "locale" / "cy" / "LC_MESSAGES" / "django.po"))
    untranslated = [_key(e) for e in fresh.untranslated_entries()]
    fuzzy = [_key(e) for e in fresh.fuzzy_entries()]
    unused = [_key(e) for e in fresh.obsolete_entries()]
    assert not untranslated, f"strings with no Welsh in locale/cy/LC_MESSAGES/django.po: {untranslated}"
    assert not fuzzy, f"fuzzy (unchecked) Welsh entries: {fuzzy}"
    assert not unused, f"Welsh entries no code uses any more (delete them): {unused}"
    assert len(fresh) == len(polib.pofile(str(CATALOGUE))), "run `make messages` and commit the catalogue"


def test_the_shipped_catalogue_is_complete_and_its_placeholders_match():
    require_gettext()
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.percent_translated() == 100
    assert not catalogue.fuzzy_entries()
    assert not catalogue.metadata_is_fuzzy, "a fuzzy header is skipped by msgfmt: the plural rule would be lost"
    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=4;")
    # msgfmt --check-format fails on a Welsh string whose %(name)s placeholders differ from the English.
    subprocess.run(["msgfmt", "--check-format", "-o", "/dev/null", str(CATALOGUE)], check=True, capture_output=True)


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    """`make run` reads the committed .mo (no gettext needed): it must say what the .po says."""
    require_gettext()
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(CATALOGUE)], check=True, capture_output=True)
    with fresh.open("rb") as new, COMPILED.open("rb") as shipped:
        expected = gettext_module.GNUTranslations(new)._catalog
        committed = gettext_module.GNUTranslations(shipped)._catalog
    assert committed == expected, "locale/cy/LC_MESSAGES/django.mo is stale: run `make messages` and commit it"


# Welsh pages -------------------------------------------------------------------------------------------

# Fixed English strings of the pages: every multi-word msgid with no placeholder or markup (the content in
# the fixtures is English, so single words like "Event" could be the editor's own text).
ENGLISH = sorted(
    {e.msgid for e in polib.pofile(str(CATALOGUE)) if " " in e.msgid and "%(" not in e.msgid and "<" not in e.msgid}
)


def _visible_text(page):
    text = page.find("body").text
    return " ".join(text.split())


@pytest.fixture
def welsh_pages(archive):
    from newsletter import tokens
    from newsletter.models import Subscriber, Subscription

    reader = Subscriber.objects.create(email="darllenydd@example.org", name="Siân")
    Subscription.objects.create(subscriber=reader, newsletter=archive.newsletter, status=Subscription.Status.ACTIVE)
    path = lambda url: url.removeprefix("http://127.0.0.1:8000")  # noqa: E731
    with translation.override("cy"):
        return {
            "home": "/cy/",
            "newsletter": archive.newsletter.get_absolute_url(),
            "issue": archive.rich.get_absolute_url(),
            "search": "/cy/search/?q=dementia",
            "search-empty": "/cy/search/",
            "tag": "/cy/tags/events/",
            "subscribe": "/cy/subscribe/",
            "contribute": f"/cy/contribute/{archive.newsletter.slug}/",
            "preferences": path(tokens.preferences_url(reader.pk)),
            "unsubscribe": path(tokens.unsubscribe_url(reader.pk, archive.newsletter.pk)),
            "bad-link": "/cy/preferences/not-a-token/",
            "not-found": "/cy/no-such-newsletter/no-such-issue/",
        }


@pytest.mark.django_db
def test_welsh_pages_are_welsh(client, parse_html, welsh_pages, settings):
    settings.DEBUG = False  # the 404 page as readers get it
    for name, url in welsh_pages.items():
        response = client.get(url)
        assert url.startswith("/cy/"), name
        page = parse_html(response)
        assert page.find("html").attrs["lang"] == "cy", name
        text = _visible_text(page)
        english = [s for s in ENGLISH if s in text]
        assert not english, f"{name} ({url}) shows English: {english}"
        assert "Archif y cylchlythyrau" in text, name
        assert "Neidio i’r prif gynnwys" in text, name


@pytest.mark.django_db
def test_welsh_dates_numbers_and_plurals(client, parse_html, make_issue, newsletter):
    import datetime

    from newsletter.models import Section

    make_issue(
        "Rhifyn Rhagfyr",
        issue_date=datetime.date(2019, 12, 9),
        sections=[
            {"heading": "Cynhadledd", "kind": Section.Kind.EVENT, "event_date": datetime.date(2019, 12, 9)},
            {"heading": "Newyddion", "body_markdown": "Dim."},
        ],
    )
    issue_page = _visible_text(parse_html(client.get("/cy/weekly-update/rhifyn-rhagfyr/")))
    assert "9 Rhagfyr 2019" in issue_page
    assert "Dydd Llun 9 Rhagfyr 2019" in issue_page  # the event's date, weekday first
    assert "Yn y rhifyn hwn" in issue_page

    home = _visible_text(parse_html(client.get("/cy/")))
    assert "1 rhifyn" in home
    english_home = _visible_text(parse_html(client.get("/")))
    assert "1 issue" in english_home and "9 December 2019" in english_home
    with translation.override("cy"):
        from django.template import Context, Template

        assert Template('{{ d|date:"l, j F Y" }}').render(Context({"d": datetime.date(2019, 12, 9)})) == (
            "Dydd Llun, 9 Rhagfyr 2019"
        )


@pytest.mark.django_db
def test_welsh_form_errors_are_welsh(client, parse_html, newsletter):
    response = client.post("/cy/subscribe/", {"email": "not an address", "newsletters": [newsletter.slug]})
    assert response.status_code == 400
    text = _visible_text(parse_html(response))
    assert "Rhowch gyfeiriad e-bost dilys, fel enw@example.org." in text or "Rhowch gyfeiriad e-bost cyflawn" in text
    assert "Enter a" not in text


@pytest.mark.django_db
def test_the_email_is_welsh_in_welsh(rich_issue):
    rendered = render_issue(rich_issue, language="cy")  # the fixed parts in Welsh, the editor's text as written
    with translation.override("cy"):
        html, text = personalise(
            rendered.html, rendered.text, name="Siân", unsubscribe_url="https://u.example", preferences_url="https://p"
        )
    assert '<html lang="cy"' in html
    for part in (html, text):
        assert "Helo Siân," in part
        assert "Dad-danysgrifio" in part and "Eich dewisiadau" in part
        assert "Unsubscribe" not in part and "Hello" not in part and "preferences" not in part.lower()
    assert "Gweld yr e-bost hwn yn eich porwr" in html
    assert "YN Y RHIFYN HWN" in text
    assert "/cy/weekly-update/" in html  # its links open Welsh pages

    english = render_issue(rich_issue)
    assert '<html lang="en-GB"' in english.html and "View this email in your browser" in english.html


# A missing translation -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_translation_falls_back_to_english_not_to_nothing(client, parse_html, settings, tmp_path):
    """A catalogue without one string (untranslated, or fuzzy: msgfmt skips both) shows that string in English
    and everything else in Welsh; nothing is empty and nothing fails."""
    require_gettext()
    catalogue = polib.pofile(str(CATALOGUE))
    catalogue.find("Search the archive").msgstr = ""
    catalogue.find("Skip to main content").flags.append("fuzzy")
    folder = tmp_path / "locale" / "cy" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue.save(str(folder / "django.po"))
    subprocess.run(["msgfmt", "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # Django's test signal drops its cached catalogues

    page = parse_html(client.get("/cy/search/"))

    assert page.find("label", **{"for": "search-q"}).text == "Search the archive"
    assert page.find("a", class_="skip-link").text == "Skip to main content"
    assert page.find("a", class_="site-name").text == "Archif y cylchlythyrau"  # the rest is still Welsh
    with translation.override("cy"):
        assert translation.gettext("A sentence no catalogue has.") == "A sentence no catalogue has."
