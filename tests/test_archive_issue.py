import datetime
import re

import pytest

from newsletter.models import Comment, Issue, Section


def sections_of(page):
    return page.find("article").find_all("section", class_="section")


@pytest.mark.django_db
def test_issue_shows_title_date_tags_and_intro(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    assert page.find("h1").text == "Weekly update 24 May 2011"
    assert page.find("time").text == "24 May 2011"
    tags = page.find("ul", class_="tags").find_all("a")
    assert [(a.text, a.attrs["href"]) for a in tags] == [
        ("Adult social care", "/tags/adult-social-care/"),
        ("Events", "/tags/events/"),
    ]
    assert page.find("div", class_="intro").text == "Welcome to this week's update."


@pytest.mark.django_db
def test_issue_contents_list_links_each_top_level_section(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    toc = page.find("nav", class_="toc")
    assert toc.find("h2").text == "In this issue"
    links = [(a.text, a.attrs["href"]) for a in toc.find_all("a")]
    assert links == [
        ("Council budgets under pressure", "#s1-council-budgets-under-pressure"),
        ("Weekly round-up", "#s2-weekly-round-up"),
        ("Making the Equality Framework work for you", "#s3-making-the-equality-framework-work-for-y"),
        ("Silly Sausage Corner", "#s4-silly-sausage-corner"),
    ]  # not the closing section: it has no heading on the page to name
    for _, href in links:
        assert page.find(id=href[1:]) is not None, href


@pytest.mark.django_db
def test_issue_shows_sections_in_position_order(client, make_issue, parse_html):
    issue = make_issue("Order", sections=[{"heading": "First"}, {"heading": "Second"}, {"heading": "Third"}])
    Section.objects.filter(issue=issue, heading="First").update(position=9)

    page = parse_html(client.get(issue.get_absolute_url()))

    assert [h2.text for h2 in page.find("article").find_all("h2")][1:] == ["Second", "Third", "First"]


@pytest.mark.django_db
def test_issue_nests_digest_items_under_their_digest(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    digest = page.find("section", id="s2-weekly-round-up")
    assert [h3.text for h3 in digest.find_all("h3")] == ["Care homes", "Housing", "Data sharing"]
    assert "Inspection results published for care homes." in digest.text
    top_level = [s for s in sections_of(page) if s.parent.tag == "article"]
    assert len(top_level) == 5


@pytest.mark.django_db
def test_issue_shows_event_details(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    event = page.find("section", class_="section--event").find("dl", class_="event")
    details = dict(zip([dt.text for dt in event.find_all("dt")], [dd.text for dd in event.find_all("dd")], strict=True))
    assert details == {
        "Date": "Tuesday 21 June 2011",
        "Time": "10:30",
        "Venue": "Herefordshire Racecourse, Hereford, HR4 9QU",
        "Fee": "Free",
        "Booking": "To book, email events@example.org",
    }
    assert event.find("a", href="mailto:events@example.org") is not None


@pytest.mark.django_db
def test_issue_lists_links_the_text_does_not_already_show(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    extra = page.find("section", class_="section--event").find("ul", class_="links")
    assert [a.attrs["href"] for a in extra.find_all("a")] == ["https://example.org/programme"]
    assert page.find("section", class_="section--article").find("ul", class_="links") is None


@pytest.mark.django_db
def test_issue_shows_source_attribution(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    article = page.find("section", id="s1-council-budgets-under-pressure")
    assert article.find("p", class_="source").text == "Via Localgov – 23rd May"


@pytest.mark.django_db
def test_every_section_with_a_heading_has_a_permalink_to_its_anchor(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    sections = sections_of(page)
    assert len(sections) == 8  # five top-level sections and three digest items
    for section in sections[:-1]:  # the closing section has no heading (tests/test_archive_contents.py)
        permalink = next(a for a in section.find_all("a", class_="permalink") if a.parent.parent is section)
        assert permalink.attrs["href"] == "#" + section.attrs["id"]
        assert permalink.text.startswith("¶")


@pytest.mark.django_db
def test_issue_shows_sign_off_after_the_sections(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    sign_off = page.find("div", class_="sign-off")
    assert sign_off.text == "P.S. Our annual conference is booking now."
    assert sign_off.parent.tag == "article"


@pytest.mark.django_db
def test_reader_comments_are_in_their_own_region_after_the_article(client, rich_issue, parse_html):
    page = parse_html(client.get(rich_issue.get_absolute_url()))

    region = page.find("section", class_="comments")
    assert region.attrs["aria-labelledby"] == "comments-heading"
    assert page.find(id="comments-heading").text == "Reader comments"
    assert all(ancestor.tag != "article" for ancestor in region.ancestors)
    comments = region.find_all("li", class_="comment")
    assert [c.find("div").text for c in comments] == ["I agree with this!", "Thanks for sharing."]
    assert "Pat, 25 May 2011" in comments[1].text
    assert "I agree with this!" not in page.find("article").text


@pytest.mark.django_db
def test_hidden_comments_are_not_shown(client, rich_issue):
    response = client.get(rich_issue.get_absolute_url())

    assert "Buy cheap watches" not in response.text


@pytest.mark.django_db
def test_issue_without_visible_comments_has_no_comments_region(client, make_issue):
    issue = make_issue("Quiet", sections=[{"heading": "News"}], comments=[{"body_markdown": "spam", "hidden": True}])

    response = client.get(issue.get_absolute_url())

    assert "Reader comments" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Issue.Status.DRAFT, Issue.Status.SCHEDULED])
def test_unpublished_issue_is_not_found(client, make_issue, status):
    issue = make_issue("Not yet", status=status, issue_date=datetime.date(2030, 1, 1))

    assert client.get(issue.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_an_issue_being_sent_is_on_the_web_for_view_in_browser_links(client, make_issue):
    sending = make_issue("Going out now", status=Issue.Status.SENDING)

    assert client.get(sending.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_sent_and_imported_issues_are_shown(client, make_issue):
    sent = make_issue("Sent one", status=Issue.Status.SENT)
    imported = make_issue("Imported one", status=Issue.Status.IMPORTED)

    assert client.get(sent.get_absolute_url()).status_code == 200
    assert client.get(imported.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_unknown_issue_or_wrong_newsletter_is_not_found(client, rich_issue, make_newsletter):
    make_newsletter("Other", slug="other")

    assert client.get("/weekly-update/no-such-issue/").status_code == 404
    assert client.get(f"/other/{rich_issue.slug}/").status_code == 404
    assert client.get(f"/no-such-newsletter/{rich_issue.slug}/").status_code == 404


@pytest.mark.django_db
def test_script_and_javascript_links_in_imported_text_do_not_reach_the_page(client, make_issue):
    hostile = (
        "Hello <script>alert('body')</script> there.\n\n"
        "[Click me](javascript:alert('link')) and <a href=\"javascript:alert('raw')\">raw</a>\n\n"
        "<img src=x onerror=\"alert('img')\">"
    )
    issue = make_issue(
        "Title <script>alert('title')</script>",
        intro="<script>alert('intro')</script>",
        sign_off="P.S. [x](javascript:alert('ps'))",
        sections=[
            {"heading": "Hostile", "body_markdown": hostile, "source": "<script>alert('source')</script>"},
            {
                "heading": "Event",
                "kind": Section.Kind.EVENT,
                "booking": "[Book](javascript:alert('booking'))",
                "venue": "<b onmouseover=alert(1)>Hall</b>",
            },
        ],
        comments=["<script>alert('comment')</script> I agree"],
    )

    response = client.get(issue.get_absolute_url())

    assert response.status_code == 200
    # The page's one script is its JSON-LD, a data block whose text has no "<" at all (archive/structured.py).
    data_block = re.compile(r'<script type="application/ld\+json">([^<]*)</script>')
    assert len(data_block.findall(response.text)) == 1
    html = data_block.sub("", response.text)
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html
    assert "<b onmouseover" not in html
    assert "Title &lt;script&gt;" in html
    assert "&lt;b onmouseover=alert(1)&gt;Hall" in html
    assert ">Click me</a>" in html  # the text stays; only the dangerous href goes


@pytest.mark.django_db
def test_issue_query_count_does_not_grow_with_sections(client, make_issue, parse_html, django_assert_max_num_queries):
    sections = []
    for n in range(15):
        sections.append({"heading": f"Article {n}", "body_markdown": f"Body {n}", "links": [f"https://e.org/{n}"]})
        sections.append({"heading": f"Event {n}", "kind": Section.Kind.EVENT, "venue": "Hall", "fee": "Free"})
        sections.append(
            {
                "heading": f"Round-up {n}",
                "kind": Section.Kind.DIGEST,
                "items": [{"heading": f"Item {n}.{i}", "links": [f"https://e.org/{n}/{i}"]} for i in range(3)],
            }
        )
    issue = make_issue(
        "Big issue", tags=["a", "b", "c"], sections=sections, comments=[f"Comment {n}" for n in range(20)]
    )

    with django_assert_max_num_queries(7):
        response = client.get(issue.get_absolute_url())

    page = parse_html(response)
    assert len(sections_of(page)) == 45 + 45
    assert len(page.find_all("li", class_="comment")) == 20


@pytest.mark.django_db
def test_issue_answers_a_repeat_request_with_not_modified(client, rich_issue):
    first = client.get(rich_issue.get_absolute_url())

    second = client.get(rich_issue.get_absolute_url(), headers={"if-none-match": first["ETag"]})

    assert second.status_code == 304


@pytest.mark.django_db
def test_hiding_a_comment_changes_the_etag(client, rich_issue):
    first = client.get(rich_issue.get_absolute_url())
    Comment.objects.filter(issue=rich_issue, author="Pat").update(hidden=True)

    second = client.get(rich_issue.get_absolute_url(), headers={"if-none-match": first["ETag"]})

    assert second.status_code == 200
    assert "Thanks for sharing." not in second.text
