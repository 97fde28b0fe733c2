"""Fuzzing the parsers of past issues from other tools: any text gives issues or the module's own clear error,
never a crash, and nothing unsafe survives the Substack HTML's sanitising."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.importer.frontmatter import FrontMatterError, parse_markdown
from newsletter.importer.parsed import ParsedIssue
from newsletter.importer.substack import PostRow, SubstackError, parse_post, read_posts_csv

TAGS = ["p", "h2", "h3", "a", "b", "div", "script", "ul", "li", "figure", "img", "form", "iframe", "blockquote"]
fragments = st.sampled_from(
    [*(f"<{t}>" for t in TAGS), *(f"</{t}>" for t in TAGS), '<a href="javascript:x()">', '<a href="https://e.org/">',
     '<p onclick="x()">', "<!--", "-->", "&amp;", "&#0;", "<![CDATA[", "text", " ", "\n",
     '<div class="subscription-widget">']
) | st.text(max_size=12)  # fmt: skip
RAW_TAG = re.compile(r"(?<!\\)<[A-Za-z!/?]")
ROW = PostRow("1.post", "Title", "", "2024-01-01", True, "newsletter", "raw")
front = st.sampled_from(["---\n", "title: T\n", "date: 2024-03-01\n", "tags: [a, b]\n", "tags:\n", "- x\n", "## H\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(fragments, max_size=60).map("".join))
def test_any_html_body_gives_sanitised_sections_or_a_substack_error(html):
    try:
        issue = parse_post(ROW, html, newsletter="n")
    except SubstackError as exc:
        assert str(exc)
        return
    assert isinstance(issue, ParsedIssue)
    for section in issue.sections:
        text = section.body_markdown
        assert not RAW_TAG.search(text), text  # any "<" left is escaped text, never raw HTML
        assert "](javascript:" not in text.lower()
        assert all(link.url.startswith(("http://", "https://")) for link in section.links)


def test_deeply_nested_html_is_refused_or_read_never_a_crash():
    try:
        parse_post(ROW, "<b>" * 20_000 + "deep" + "</b>" * 20_000, newsletter="n")
    except SubstackError as exc:
        assert "nested too deeply" in str(exc)


@settings(max_examples=300, deadline=None)
@given(st.lists(front | st.text(max_size=30), max_size=20).map("".join))
def test_any_markdown_file_gives_an_issue_or_a_front_matter_error(text):
    try:
        issue = parse_markdown(text, source="x.md")
    except FrontMatterError as exc:
        assert str(exc)
    else:
        assert issue.title and len(issue.content_hash) == 64


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_posts_csv_gives_rows_or_a_substack_error(text):
    try:
        rows = read_posts_csv("post_id,post_date,is_published,title\n" + text)
    except SubstackError as exc:
        assert str(exc).startswith("posts.csv")
    else:
        assert all(row.file_name.endswith(".html") and "/" not in row.file_name for row in rows)
