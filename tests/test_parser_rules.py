"""Parser rules on documents of the seeds' shapes, written for these tests (not the seeds)."""

from newsletter.importer.inline import to_markdown
from newsletter.importer.parse import parse_document


def parse(text, **kwargs):
    kwargs.setdefault("source", "doc.txt")
    kwargs.setdefault("newsletter", "news")
    return parse_document(text, **kwargs)


BLOG_DUMP = """Team news 07.06.11

Team news 7 June 2011

Here is what happened.

Library opening hours

The library now opens at 8am. Contact libraries@example.gov.uk for details.

Weekly digest of council websites

Parks

New benches in the park.

Roads

Gritting starts in November.

A much longer heading that ends the digest group here

Body text.

And finally, a cat was rescued.

P.S. Send items to me at editor [at] example.org.

Posted in Team news | Tagged , , | Leave a comment

An undated post

Just some thoughts without a heading.

Posted in Musings | Leave a comment
"""


def test_blog_dump_gives_one_issue_per_post_with_title_date_and_category():
    first, second = parse(BLOG_DUMP)
    assert first.title == "Team news 07.06.11"
    assert (first.date, first.date_precision) == ("2011-06-07", "day")
    assert first.category == "Team news"
    assert first.tags == []
    assert first.intro == "Here is what happened."
    assert second.title == "An undated post"
    assert second.date is None and second.category == "Musings"


def test_digest_groups_hold_their_short_items_and_a_long_heading_ends_them():
    issue = parse(BLOG_DUMP)[0]
    kinds = [(s.kind, s.heading) for s in issue.sections]
    assert kinds == [
        ("article", "Library opening hours"),
        ("digest", "Weekly digest of council websites"),
        ("article", "A much longer heading that ends the digest group here"),
        ("closing", None),
    ]
    digest = issue.sections[1]
    assert [(c.kind, c.heading) for c in digest.sections] == [("digest_item", "Parks"), ("digest_item", "Roads")]


def test_sign_off_is_only_the_trailing_ps_and_obfuscated_addresses_become_mailto():
    issue = parse(BLOG_DUMP)[0]
    assert issue.sign_off == "P.S. Send items to me at <editor@example.org>."
    assert issue.links == ["mailto:libraries@example.gov.uk", "mailto:editor@example.org"]
    assert "P.S." not in issue.sections[-1].body_markdown


def test_tagged_blog_splits_posts_at_title_and_date_lines():
    text = (
        "Posts Tagged ‘roads’\n\nPotholes\n\nTuesday, March 3rd, 2020\n\nWe fixed them.\n\n"
        "Bridges\n\nFriday, January 10th, 2020\n\nOne reopened.\n"
    )
    issues = parse(text)
    assert [(i.title, i.date, i.tags) for i in issues] == [
        ("Potholes", "2020-03-03", ["roads"]),
        ("Bridges", "2020-01-10", ["roads"]),
    ]
    assert issues[0].sections[0].body_markdown == "We fixed them."


def test_month_only_title_gives_the_first_of_the_month():
    (issue,) = parse("Northern Region Update March 2019\n\nHousing\n\nSome news.\n")
    assert (issue.date, issue.date_precision) == ("2019-03-01", "month")


def test_event_fields_come_out_of_the_body():
    text = (
        "Winter conference on adult care\n\n3 December 2021, Town Hall, Leeds\n\nTalks all day.\n\n"
        "Fee: £20\n\nTo book a place, see www.example.org/book.\n"
    )
    (issue,) = parse(text, title="Events")
    section = issue.sections[0]
    assert section.kind == "event"
    event = section.event
    assert (event.date, event.venue, event.fee) == ("2021-12-03", "Town Hall, Leeds", "£20")
    assert event.booking == "To book a place, see [www.example.org/book](http://www.example.org/book)."
    assert section.body_markdown == "Talks all day."
    assert section.links[0].url == "http://www.example.org/book"


def test_a_dateline_under_a_news_heading_is_not_an_event():
    (issue,) = parse("Minister visits\n\n11 May 2011\n\nThe minister visited the depot.\n", title="News")
    assert issue.sections[0].kind == "article"
    assert issue.sections[0].body_markdown.startswith("11 May 2011")
    assert issue.date is None


def test_column_heading_makes_a_column():
    (issue,) = parse("Opinion corner\n\nI think this.\n", title="x")
    assert issue.sections[0].kind == "column"


def test_lists_with_sub_items_and_lettered_items():
    text = "Plans\n\n  1. First\n  2. Second\n  • sub one\n  • sub two\n\na) alpha\n\nb) beta\n"
    (issue,) = parse(text, title="x")
    assert issue.sections[0].body_markdown == (
        "1. First\n2. Second\n    - sub one\n    - sub two\n\n- a) alpha\n\n- b) beta"
    )


def test_markdown_specials_are_escaped_and_nbsp_normalised():
    (issue,) = parse("Use *stars*\u00a0\u00a0and_underscores [sic] `x`\n", title="x")
    assert issue.sections[0].body_markdown == r"Use \*stars\* and\_underscores \[sic\] \`x\`"


def test_urls_lose_trailing_punctuation_and_www_gets_http():
    markdown, links = to_markdown("See http://example.org/a_b). Or www.example.org, or <http://x.org/y>.")
    assert [link.url for link in links] == ["http://example.org/a_b", "http://www.example.org", "http://x.org/y"]
    assert (
        markdown == "See <http://example.org/a_b>). Or [www.example.org](http://www.example.org), or <http://x.org/y>."
    )


def test_read_the_full_article_without_a_url_stays_text():
    (issue,) = parse("Budget news\n\nCouncils get money.\n\nRead the full article.\n", title="x")
    assert issue.sections[0].body_markdown.endswith("Read the full article.")
    assert issue.links == []


def test_web_page_leftovers_are_dropped():
    (issue,) = parse("Spring Update May 2020\n\nParks\n\nOpen.\n\nTags assigned to this article:\n\nRelated Articles\n")
    assert issue.sections[0].body_markdown == "Open."


def test_reader_comments_are_split_from_a_news_article():
    text = "\n".join(
        [
            "The council announced a new plan today.",
            "“It will help,” the leader said.",
            "The plan starts in May, officials added.",
            "I don’t believe a word of it !!",
            "Have we seen this before ? My street never got anything!",
        ]
    )
    (issue,) = parse(text, title="Plan")
    assert [c.body_markdown for c in issue.comments] == [
        "I don’t believe a word of it !!",
        "Have we seen this before ? My street never got anything!",
    ]
    assert "believe" not in issue.sections[0].body_markdown


def test_a_blog_post_in_the_first_person_has_no_comments():
    text = "I went to the park.\nWe liked it!\nDid you?\nI think so!"
    (issue,) = parse(text, title="Park")
    assert issue.comments == []
