"""The issue email: rendered once with CSS inlined, a readable text part, personal parts filled in per reader."""

import pytest

from newsletter.rendering import (
    GREETING,
    PREFERENCES_URL,
    READER_TOKEN,
    UNSUBSCRIBE_URL,
    html_to_text,
    personalise,
    render_issue,
)


@pytest.fixture
def rendered(rich_issue, newsletter):
    newsletter.sender_name = "SSRG"
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.postal_address = "1 High Street\nLeeds LS1 1AA"
    newsletter.save()
    rich_issue.subject = "This week: budgets and events"
    rich_issue.preheader = "Councils brace for a difficult year"
    rich_issue.save()
    return render_issue(rich_issue)


def test_the_email_has_subject_preheader_masthead_contents_and_sections(rendered, parse_html):
    page = parse_html(rendered.html)
    assert rendered.subject == "This week: budgets and events"
    assert "Councils brace for a difficult year" in page.find("span", class_="preheader").text
    assert page.find("h1").text == "Weekly update 24 May 2011"
    contents = [a.text for a in page.find("td", class_="toc").find_all("a")]
    assert contents == [
        "Council budgets under pressure", "Weekly round-up", "Making the Equality Framework work for you",
        "Silly Sausage Corner", "And lastly…",
    ]  # fmt: skip
    pages = {a.attrs["href"].partition("#")[0] for a in page.find("td", class_="toc").find_all("a")}
    # its web version, with each recipient's reader token (tokens.py) filled in per recipient
    assert [p.endswith(f"/weekly-update/weekly-update-24-may-2011/?token={READER_TOKEN}") for p in pages] == [True]
    assert [h.text for h in page.find_all("h3")] == ["Care homes", "Housing", "Data sharing"]


def test_the_footer_says_who_sends_it_where_from_why_and_how_to_leave(rendered, parse_html):
    footer = parse_html(rendered.html).find("td", class_="footer")
    assert "sent by SSRG <news@ssrg.example.org>" in footer.text
    assert "1 High Street" in footer.text and "Leeds LS1 1AA" in footer.text
    assert "because you subscribed to SSRG Weekly Update" in footer.text
    links = {a.text: a.attrs["href"] for a in footer.find_all("a")}
    assert links["Unsubscribe"] == UNSUBSCRIBE_URL and links["Your preferences"] == PREFERENCES_URL
    assert links["Read it on the web"].endswith(f"/weekly-update/weekly-update-24-may-2011/?token={READER_TOKEN}")
    assert links["Subscribe"].endswith("/subscribe/")


def test_css_is_inlined_once_into_a_600px_table_layout_with_dark_mode_rules_kept(rendered, parse_html):
    page = parse_html(rendered.html)
    container = page.find("table", class_="container")
    assert container.attrs["width"] == "600" and "max-width: 600px" in container.attrs["style"]
    assert "color: #ffffff" in page.find("h1").attrs["style"]
    assert not page.find("link")
    assert "@media (prefers-color-scheme: dark)" in rendered.html
    assert "<!--[if mso]>" in rendered.html  # Outlook's fixed-width wrapper
    assert not rendered.too_big


def test_the_text_part_keeps_every_link_readable(rendered):
    assert "Read more at\nhttp://www.localgov.co.uk/budgets" in rendered.text or (
        "http://www.localgov.co.uk/budgets" in rendered.text
    )
    assert "- Programme: https://example.org/programme" in rendered.text
    assert "Venue: Herefordshire Racecourse" in rendered.text
    assert "<" not in rendered.text.replace("<news@ssrg.example.org>", "")
    assert html_to_text('<p>See <a href="https://x.org/a">the report</a>.</p>') == "See the report (https://x.org/a)."


def test_markdown_is_sanitised_before_it_reaches_the_email(make_issue, newsletter):
    issue = make_issue(
        "Risky",
        sections=[{"heading": "Hi", "body_markdown": "<script>alert(1)</script> [x](javascript:alert(1)) **ok**"}],
    )
    rendered = render_issue(issue)
    assert "<script" not in rendered.html and "javascript:" not in rendered.html
    assert "<strong" in rendered.html


def test_personal_parts_are_filled_in_by_substitution_and_escaped(rendered):
    assert rendered.html.count(GREETING) == 1
    html, text = personalise(
        rendered.html,
        rendered.text,
        name="Ann <O'Neil>",
        unsubscribe_url="https://x.org/unsubscribe/T1/",
        preferences_url="https://x.org/preferences/T2/",
    )
    assert "Hello Ann &lt;O'Neil&gt;," in html and "Hello Ann <O'Neil>," in text
    assert 'href="https://x.org/unsubscribe/T1/"' in html and "Unsubscribe: https://x.org/unsubscribe/T1/" in text
    assert "%%" not in html and "%%" not in text
    assert personalise("%%GREETING%%", "%%GREETING%%", name="", unsubscribe_url="", preferences_url="") == (
        "Hello,",
        "Hello,",
    )
