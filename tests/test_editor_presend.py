"""The pre-send check (newsletter/editor/presend.py::run): each kind of finding, named with its section, and
nothing for an issue that is fine. Broken links are found by the real link check against a loopback server."""

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newsletter import rendering
from newsletter.editor import linkcheck, presend
from newsletter.mail import message
from newsletter.models import Section, SectionImage

pytestmark = pytest.mark.usefixtures("fresh_cache")  # link check results live in the cache


class Pages(BaseHTTPRequestHandler):
    def _answer(self, with_body):
        self.send_response(404 if self.path.startswith("/missing") else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if with_body:
            self.wfile.write(b"ok")

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def draft(make_issue, newsletter):
    """A draft with nothing to report once its links are checked; tests add the trouble they look for."""
    newsletter.sender_email = "news@example.org"
    newsletter.save()

    def make(*sections, **fields):
        sections = sections or ({"heading": "Parks", "body_markdown": "New benches in every park."},)
        return make_issue("Weekly update 31.05.11", status="draft", sections=sections, **fields)

    return make


def findings(issue, check=None):
    return [(f.where, f.message) for f in presend.run(issue) if check is None or f.check == check]


def checked(issue):
    linkcheck.check_issue_links(issue, timeout=5, deadline=30)
    return issue


# A clean issue ------------------------------------------------------------------------------------


def test_a_clean_issue_whose_links_were_checked_has_no_findings(draft, site):
    issue = checked(
        draft(
            {
                "heading": "Parks",
                "body_markdown": "New benches: see [the parks programme]("
                + site
                + "/parks).\n\n### Where\n\nAll of them.",
                "links": [f"{site}/map"],
            },
            intro="Welcome to [this week's update](" + site + "/about).",
        )
    )

    assert findings(issue) == []


# Links ----------------------------------------------------------------------------------------------


def test_before_the_link_check_the_check_says_links_are_unchecked(draft):
    assert findings(draft(), "links") == [("the whole issue", "Links have not been checked yet: run the link check.")]


def test_after_the_link_check_each_broken_link_is_named_with_its_section_and_why(draft, site):
    issue = checked(
        draft(
            {"heading": "Parks", "body_markdown": f"See [the plans]({site}/missing/plans).", "links": [f"{site}/ok"]},
            {"heading": "Budget", "body_markdown": "Councils get money.", "links": ["http://127.0.0.1:9/closed"]},
        )
    )

    broken = findings(issue, "links")

    assert broken[0] == ("Parks", f"Broken link {site}/missing/plans (HTTP 404).")
    assert broken[1][0] == "Budget"
    assert broken[1][1].startswith("Broken link http://127.0.0.1:9/closed (")  # the connection's error
    assert len(broken) == 2  # the working link is not reported, nor "not checked yet"


def test_a_broken_link_in_a_digest_item_is_named_with_the_item(draft, site):
    issue = checked(
        draft(
            {
                "heading": "Round-up",
                "kind": Section.Kind.DIGEST,
                "body_markdown": "This week in brief.",
                "items": [{"heading": "Care homes", "body_markdown": f"[Inspection results]({site}/missing/care)."}],
            }
        )
    )

    assert findings(issue, "links") == [("Care homes", f"Broken link {site}/missing/care (HTTP 404).")]


# Link text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Click here", "here", "Read more.", "more", "this link"])
def test_link_text_that_does_not_say_where_it_goes(draft, text):
    issue = draft({"heading": "Parks", "body_markdown": f"New benches. [{text}](https://example.org/parks)"})

    assert findings(issue, "link-text") == [("Parks", f"The link “{text}” does not say where it goes.")]


def test_link_text_that_says_where_it_goes_is_fine(draft):
    issue = draft({"heading": "Parks", "body_markdown": "[The parks programme](https://example.org/parks)."})

    assert findings(issue, "link-text") == []


def test_a_pointer_to_a_link_that_is_not_there(draft):
    issue = draft({"heading": "Budget", "body_markdown": "Councils get money.\n\nRead the full article."})

    assert findings(issue, "link-text") == [("Budget", "“Read the full article.” points to a link that is not there.")]


def test_a_pointer_with_its_link_is_fine(draft):
    issue = draft({"heading": "Budget", "body_markdown": "[Read the full article](https://example.org/budget)."})

    assert findings(issue, "link-text") == []


def test_vague_link_text_in_the_intro_or_an_event_booking_is_found_too(draft):
    issue = draft(
        {
            "heading": "Open day",
            "kind": Section.Kind.EVENT,
            "body_markdown": "Come and see.",
            "booking": "Book [here](https://example.org/book).",
        },
        intro="[Click here](https://example.org/web) for the web version.",
    )

    assert findings(issue, "link-text") == [
        ("Open day", "The link “here” does not say where it goes."),
        ("the whole issue", "The link “Click here” does not say where it goes."),
    ]


# Images -------------------------------------------------------------------------------------------------


def test_an_image_in_the_text_without_alt_text(draft):
    issue = draft(
        {
            "heading": "Parks",
            "body_markdown": "![](https://example.org/bench.jpg)\n\n![A new bench](https://example.org/b.jpg)",
        }
    )

    assert findings(issue, "images") == [("Parks", "An image has no alt text.")]


def test_an_uploaded_image_without_alt_text(draft):
    issue = draft()
    section = issue.sections.get()
    SectionImage.objects.create(section=section, image="sections/2011/05/bench.jpg", alt_text=" ")
    SectionImage.objects.create(section=section, image="sections/2011/05/park.jpg", alt_text="The park gates")

    assert findings(issue, "images") == [("Parks", "The image sections/2011/05/bench.jpg has no alt text.")]


# Headings -----------------------------------------------------------------------------------------------


def test_a_section_heading_level_inside_a_section(draft):
    issue = draft({"heading": "Parks", "body_markdown": "## Benches\n\nNew ones."})

    assert findings(issue, "headings") == [("Parks", "A level-2 heading inside a section: use ### or lower.")]


def test_a_heading_that_skips_a_level(draft):
    # The section's own heading is a level 2 in the email: a #### straight under it skips level 3.
    issue = draft({"heading": "Parks", "body_markdown": "#### Benches\n\nNew ones."})

    assert findings(issue, "headings") == [("Parks", "A heading jumps from level 2 to 4.")]


def test_headings_in_order_are_fine(draft):
    issue = draft({"heading": "Parks", "body_markdown": "### Benches\n\n#### Colours\n\nGreen.\n\n### Paths\n\nNew."})

    assert findings(issue, "headings") == []


# The plain-text part --------------------------------------------------------------------------------------


def test_a_link_the_plain_text_part_lacks_is_named(draft, monkeypatch):
    issue = draft({"heading": "Parks", "body_markdown": "See [the parks programme](https://example.org/parks)."})
    real = rendering.render_issue

    def text_without_the_link(issue, **kwargs):  # as a template that drops links from the text part would
        rendered = real(issue, **kwargs)
        return dataclasses.replace(rendered, text=rendered.text.replace("https://example.org/parks", ""))

    monkeypatch.setattr(rendering, "render_issue", text_without_the_link)

    assert findings(issue, "plain-text") == [
        ("the whole issue", "The plain-text part lacks the link https://example.org/parks.")
    ]


def test_every_link_of_a_real_issue_is_in_its_plain_text_part(draft):
    issue = draft(
        {
            "heading": "Parks",
            "body_markdown": "[Programme](https://example.org/parks?year=2011&area=east), <https://example.org/map>, "
            "[mail us](mailto:parks@example.org).",
            "links": [{"url": "https://example.org/extra", "title": "Extra"}],
        }
    )

    assert findings(issue, "plain-text") == []


# Size ----------------------------------------------------------------------------------------------------


def test_an_email_gmail_would_clip_is_reported_with_its_size(draft):
    paragraphs = "\n\n".join(f"Paragraph {n}: " + "the council met and agreed the budget. " * 12 for n in range(260))
    issue = draft({"heading": "Minutes", "body_markdown": paragraphs})

    size = rendering.render_issue(issue).html_size
    assert size > rendering.HTML_SIZE_WARNING
    assert findings(issue, "size") == [
        ("the whole issue", f"The HTML part is {size // 1024} KB; Gmail clips messages past about 102 KB.")
    ]


def test_an_ordinary_issue_is_not_too_big(rich_issue, newsletter):
    assert findings(rich_issue, "size") == []


# Headers ---------------------------------------------------------------------------------------------------


def test_the_message_subscribers_get_has_every_required_header(draft):
    assert findings(draft(), "headers") == []


def test_a_message_without_list_unsubscribe_is_reported(draft, monkeypatch):
    real = message.IssueEmail.build

    def build_without_list_unsubscribe(self, **kwargs):  # as a broken message builder would
        built = real(self, **kwargs)
        return dataclasses.replace(built, raw=built.raw.replace(b"\nList-Unsubscribe:", b"\nX-Dropped:"))

    monkeypatch.setattr(message.IssueEmail, "build", build_without_list_unsubscribe)

    assert findings(draft(), "headers") == [("the whole issue", "The List-Unsubscribe header is missing.")]
