"""Hypothesis: the feed-entry and the mail → contribution mappers never crash and never store markup — every
summary renders as paragraphs of text only, every title is one line, every link is http(s) or nothing."""

import email
import email.policy
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.inbox import feeds
from newsletter.inbox.entries import entry_fields, mail_fields
from newsletter.markup import markdown_problems, markdown_to_html

NASTY = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "&lt;b&gt;",
    "<a href='javascript:x'>y</a>", "\x00\x1b\u2028", "# heading", "* list", "> quote", "1. one", "`code`",
    "<![CDATA[x]]>", "&#x3C;script&#x3E;", "![i](http://x/y.png)", "<http://example.org>", "\\[x\\](y)", "---",
    "https://example.org/a?b=c&d=<e>", "<style>p{}</style>", "&", "\r\n\r\n", "ü日本", "<", ">",
])  # fmt: skip
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=40)), max_size=12).map("".join)
TAGS = re.compile(r"<(?!/?p>|br ?/?>)[a-zA-Z/!?]")


def assert_safe(fields):
    title, summary, url = fields["title"], fields["summary"], fields["url"]
    assert title and len(title) <= 200 and "\n" not in title and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", title)
    assert url == "" or (re.match(r"https?://", url) and len(url) <= 1000)
    assert markdown_problems(summary) == []
    html = markdown_to_html(summary)
    assert not TAGS.search(html), html  # only paragraphs and line breaks: no link, image, script or markup


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=TEXT,
    summary=TEXT,
    link=st.one_of(st.none(), TEXT, st.just("https://example.org/x"), st.just("javascript:alert(1)")),
    guid=st.one_of(st.none(), TEXT),
    content=st.one_of(st.none(), TEXT),
    parsed=st.one_of(st.none(), st.tuples(*[st.integers(-(10**6), 10**6)] * 9)),
)
def test_the_feed_entry_mapper_never_crashes_and_stores_no_markup(title, summary, link, guid, content, parsed):
    entry = {"title": title, "summary": summary, "link": link, "id": guid, "published_parsed": parsed}
    if content is not None:
        entry["content"] = [{"value": content}]
    fields = entry_fields(entry)
    if fields is None:
        assert not (guid or "").strip() and not (link or "").strip()
        return
    assert len(fields["entry_key"]) == 64
    assert_safe(fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=2000),
        TEXT.map(
            lambda t: (
                f"<rss><channel><item><title>{t}</title><guid>{t}</guid><description>{t}</description></item></channel></rss>".encode()
            )
        ),
    )
)
def test_any_bytes_served_as_a_feed_are_refused_clearly_or_mapped_safely(body):
    try:
        parsed = feeds.parse(body)
    except feeds.FeedError as exc:
        assert "not an RSS or Atom feed" in str(exc)
        return
    for entry in parsed.entries:
        fields = entry_fields(entry)
        if fields is not None:
            assert_safe(fields)


HEADER = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=st.one_of(HEADER, NASTY), sender=HEADER, body=TEXT, html=st.booleans(), raw=st.binary(max_size=500))
def test_the_mail_mapper_never_crashes_and_stores_no_markup(subject, sender, body, html, raw):
    subject = subject.replace("\n", " ").replace("\r", " ")
    sender = sender.replace("\n", " ").replace("\r", " ")
    kind = "html" if html else "plain"
    source = (
        f"From: {sender}\nTo: contribute+x@example.org\nSubject: {subject}\nMIME-Version: 1.0\n"
        f"Content-Type: text/{kind}; charset=utf-8\n\n{body}\n"
    ).encode("utf-8", "surrogatepass") + raw
    for message in (
        email.message_from_bytes(source, policy=email.policy.default),
        email.message_from_bytes(raw, policy=email.policy.default),
    ):
        fields = mail_fields(message)
        assert_safe(fields)
        assert fields["contact_email"] == "" or "@" in fields["contact_email"]
