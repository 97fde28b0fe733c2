"""A bilingual newsletter (newsletter/models/languages.py): both languages on one row, which text a reader of a
language sees, what the pre-send check says about a text written in one language only."""

import pytest
from django.core.exceptions import ValidationError

from newsletter.editor import presend
from newsletter.models import Issue, Section
from newsletter.models.languages import reader_language
from newsletter.rendering import render_issue

PARKS = {
    "heading": "Parks",
    "body_markdown": "The parks open at eight.",
    "second_heading": "Parciau",
    "second_body_markdown": "Mae'r parciau ar agor am wyth.",
}
ROADS = {"heading": "Roads", "body_markdown": "Roadworks on the A470 all week."}


@pytest.fixture
def bilingual(council):
    return council


@pytest.fixture
def bilingual_issue(make_issue, bilingual):
    def make(*sections, **fields):
        fields = {"second_title": "Newyddion y gwanwyn", "status": Issue.Status.DRAFT, **fields}
        return make_issue("Spring news", newsletter=bilingual, sections=sections, **fields)

    return make


def test_a_second_language_is_another_language(make_newsletter):
    newsletter = make_newsletter("One", slug="one", second_language="en-gb")

    with pytest.raises(ValidationError) as caught:
        newsletter.full_clean()

    assert "second_language" in caught.value.message_dict
    assert newsletter.languages == ("en-gb",) and not newsletter.is_bilingual


def test_a_reader_gets_their_language_when_the_newsletter_has_it_else_its_own(bilingual, newsletter):
    assert bilingual.languages == ("en-gb", "cy")
    assert reader_language(bilingual, "cy") == "cy"
    assert reader_language(bilingual, "") == "en-gb"
    assert reader_language(newsletter, "cy") == "en-gb"  # an English-only newsletter reaches Welsh readers in English


def test_the_welsh_email_has_the_welsh_text_and_each_section_not_written_in_welsh_in_english(
    bilingual_issue, parse_html
):
    issue = bilingual_issue(PARKS, ROADS, intro="Welcome.", second_intro="Croeso.")

    welsh = render_issue(issue, language="cy")
    english = render_issue(issue)

    assert "Newyddion y gwanwyn" in welsh.subject and "Spring news" in english.subject
    for part in (welsh.html, welsh.text):
        assert "Parciau" in part and "ar agor am wyth" in part and "Croeso." in part
        assert "Parks" not in part and "The parks open" not in part and "Welcome." not in part
        assert "Roadworks on the A470" in part  # not written in Welsh: the English, never nothing
    for part in (english.html, english.text):
        assert "Parks" in part and "Parciau" not in part and "Croeso" not in part
    # The English section in the Welsh email says it is English.
    page = parse_html(welsh.html)
    roads = next(h for h in page.find_all("h2") if h.text == "Roads")
    assert roads.parent.attrs.get("lang") == "en-GB"
    parks = next(h for h in page.find_all("h2") if h.text == "Parciau")
    assert not any("lang" in a.attrs for a in parks.ancestors if a.tag == "div")


def test_a_field_left_blank_in_the_second_language_falls_back_field_by_field(bilingual_issue):
    event = {
        "heading": "Fair",
        "second_heading": "Ffair",
        "kind": Section.Kind.EVENT,
        "body_markdown": "A fair.",
        "second_body_markdown": "Ffair fawr.",
        "venue": "Bute Park, Cardiff",  # a place's name: the same in both
        "fee": "Free",
        "second_fee": "Am ddim",
    }
    issue = bilingual_issue(event, subject="Spring", second_subject="")

    welsh = render_issue(issue, language="cy")

    assert welsh.subject == "Newyddion y gwanwyn"  # no Welsh subject: the Welsh title, as in English
    assert "Bute Park, Cardiff" in welsh.text and "Am ddim" in welsh.text and "Free" not in welsh.text


def test_the_search_text_holds_both_languages(bilingual_issue):
    issue = bilingual_issue(PARKS)

    issue.refresh_from_db()

    assert "Parciau" in issue.search_text and "Parks" in issue.search_text


def language_findings(issue):
    return [(f.where, f.message) for f in presend.run(issue) if f.check == "language"]


def test_the_presend_check_names_each_section_written_in_one_language_only(bilingual_issue):
    welsh_only = {"heading": "", "second_heading": "Digwyddiadau", "second_body_markdown": "Dim ond yn Gymraeg."}
    issue = bilingual_issue(PARKS, ROADS, welsh_only)

    found = language_findings(issue)

    assert (
        "Roads",
        "Written in English but not in Cymraeg: heading, text. Readers in Cymraeg would get the English.",
    ) in found
    assert (
        "Article",
        "Written in Cymraeg but not in English: heading, text. Readers in English would get the Cymraeg.",
    ) in found
    assert not [f for f in found if f[0] == "Parks"]


def test_the_presend_check_names_a_title_or_preheader_missing_in_one_language(bilingual_issue):
    issue = bilingual_issue(PARKS, second_title="", preheader="What is on", second_preheader="")

    found = language_findings(issue)

    assert found == [
        (
            "the whole issue",
            "Written in English but not in Cymraeg: title, preheader. Readers in Cymraeg would get the English.",
        )
    ]


def test_a_digest_item_missing_in_one_language_is_named_under_its_group(bilingual_issue):
    group = {
        "heading": "Round-up",
        "second_heading": "Crynodeb",
        "kind": Section.Kind.DIGEST,
        "items": [
            {"heading": "Libraries", "body_markdown": "Open late.", "second_heading": "Llyfrgelloedd"},
        ],
    }
    issue = bilingual_issue(group)

    found = language_findings(issue)

    assert found == [
        (
            "Round-up › Libraries",
            "Written in English but not in Cymraeg: text. Readers in Cymraeg would get the English.",
        )
    ]


def test_a_newsletter_in_one_language_gets_no_language_findings(make_issue):
    issue = make_issue("Monolingual", status=Issue.Status.DRAFT, sections=[ROADS])

    assert language_findings(issue) == []


def test_the_archive_page_shows_the_content_of_its_language(client, bilingual_issue, parse_html, make_issue):
    issue = bilingual_issue(PARKS, ROADS, status=Issue.Status.SENT, intro="Welcome.", second_intro="Croeso.")

    english = parse_html(client.get(issue.get_absolute_url()))
    welsh = parse_html(client.get(f"/cy{issue.get_absolute_url()}"))

    assert english.find("h1").text == "Spring news" and welsh.find("h1").text == "Newyddion y gwanwyn"
    assert [h.text for h in english.find("article").find_all("h2", id=True)][1:] == ["Parks", "Roads"]
    assert [h.text for h in welsh.find("article").find_all("h2", id=True)][1:] == ["Parciau", "Roads"]
    assert "Croeso." in welsh.find("article").text and "Welcome." not in welsh.find("article").text
    roads = next(s for s in welsh.find_all("section") if "Roads" in s.text and "Parciau" not in s.text)
    assert roads.attrs.get("lang") == "en-GB"  # not written in Welsh: the English, said to be English
    assert welsh.find("article").attrs.get("lang") is None
    # The switch leads from one to the other.
    assert any(a.attrs.get("hreflang") == "en-GB" for a in welsh.find_all("a"))


def test_a_welsh_page_of_an_english_only_newsletter_says_its_content_is_english(client, make_issue, parse_html):
    issue = make_issue("Plain", sections=[ROADS])

    welsh = parse_html(client.get(f"/cy{issue.get_absolute_url()}"))

    assert welsh.find("html").attrs["lang"] == "cy" and welsh.find("article").attrs["lang"] == "en-GB"


def test_lists_of_issues_name_each_in_the_pages_language(client, bilingual_issue, parse_html):
    untitled = bilingual_issue(ROADS, status=Issue.Status.SENT, second_title="", slug="roads")
    issue = bilingual_issue(PARKS, status=Issue.Status.SENT)  # the latest, on the home page

    welsh = parse_html(client.get("/cy/council-news/"))
    english = parse_html(client.get("/council-news/"))

    welsh_titles = [a.text for a in welsh.find_all("a") if a.attrs.get("href", "").endswith(f"/{issue.slug}/")]
    assert "Newyddion y gwanwyn" in welsh_titles
    assert any(a.text == "Spring news" for a in english.find_all("a"))
    assert any(a.text == untitled.title for a in welsh.find_all("a"))  # no Welsh title: the English one
    assert any(a.text == "Newyddion y gwanwyn" for a in parse_html(client.get("/cy/")).find_all("a"))


def test_the_review_previews_show_the_language_asked_for(editor_client, bilingual_issue):
    issue = bilingual_issue(PARKS)

    welsh = editor_client.get(f"/admin/editor/issue/{issue.pk}/preview/email/?language=cy").content.decode()
    english = editor_client.get(f"/admin/editor/issue/{issue.pk}/preview/email/").content.decode()
    web = editor_client.get(f"/admin/editor/issue/{issue.pk}/preview/web/?language=cy").content.decode()
    review = editor_client.get(f"/admin/editor/issue/{issue.pk}/review/").content.decode()

    assert "Parciau" in welsh and "Parks" not in welsh and '<html lang="cy"' in welsh
    assert "Parks" in english and "Parciau" not in english
    assert "Newyddion y gwanwyn" in web and "Parciau" in web
    assert f"/admin/editor/issue/{issue.pk}/preview/email/?language=cy" in review
