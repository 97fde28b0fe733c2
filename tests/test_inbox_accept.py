"""The week's items gather in the inbox from two feeds and a mailbox; the editor accepts them into the draft's
digest groups (or a section they choose) as links with their source, and a declined item is hidden."""

import datetime
import mailbox
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.editor.weekly import start_next_issue
from newsletter.inbox import feeds, mailin
from newsletter.models import Contribution, ContributionMailbox, FeedSource, Section, Topic
from tests.feed_helpers import atom, rss

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:newsletter_contribution_changelist"


@pytest.fixture
def draft(make_issue):
    last = make_issue("Weekly update 24.11.26", issue_date=datetime.date(2026, 11, 24), sections=[
        {"heading": "Welcome", "kind": "article", "body_markdown": "x"},
        {"heading": "Around the sector", "kind": "digest", "items": [{"heading": "Old item", "body_markdown": "y"}]},
        {"heading": "And lastly", "kind": "closing", "body_markdown": "x"},
    ])  # fmt: skip
    return start_next_issue(last)


def posted(editor_client, action, items, **extra):
    data = {"action": action, "_selected_action": [c.pk for c in items], **extra}
    return editor_client.post(reverse(CHANGELIST), data, follow=True)


def test_two_feeds_and_a_mailbox_fill_the_inbox_and_the_editor_accepts_them_into_the_draft(
    feed_server, editor_client, newsletter, draft, tmp_path, settings, fresh_cache
):
    settings.CONTRIBUTIONS_ADDRESS = "contribute@ssrg.example.org"
    now = timezone.now()
    partner = feed_server.serve("/partner.rss", rss({
        "title": "Council funds two new youth centres", "link": "https://partner.example.org/youth",
        "guid": "p-1", "description": "<p>Two centres open in <b>spring</b>.</p>", "pubDate": format_datetime(now),
    }))  # fmt: skip
    blog = feed_server.serve("/blog.atom", atom({
        "id": "tag:blog,2026:9", "title": "Care research grant", "link": "https://blog.example.org/grant",
        "summary": "A grant for care research.", "updated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }), content_type="application/atom+xml")  # fmt: skip
    FeedSource.objects.create(
        newsletter=newsletter, name="Partner news", url=partner, section_heading="Around the sector"
    )
    FeedSource.objects.create(newsletter=newsletter, name="Research blog", url=blog)  # its own group, made on accept
    ContributionMailbox.objects.create(newsletter=newsletter, allowed_senders="sam@ssrg.example.org")
    box = mailbox.Maildir(tmp_path / "in", create=True)
    message = EmailMessage()
    message["From"], message["To"] = "Sam Clerk <sam@ssrg.example.org>", "contribute+weekly-update@ssrg.example.org"
    message["Subject"] = "Hythe play area reopens"
    message.set_content("The play area reopens on Monday: https://example.org/hythe\n")
    box.add(message.as_bytes())

    assert sum(r.new for r in feeds.fetch_due()) == 2  # what beat does
    assert mailin.process_contributions(maildir=str(tmp_path / "in")).new == 1

    page = editor_client.get(reverse(CHANGELIST)).content.decode()
    assert "3 waiting" in page
    for where in ("Feed: Partner news", "Feed: Research blog", "Email from Sam Clerk"):
        assert where in page
    response = posted(editor_client, "accept_into_draft", Contribution.objects.all())
    assert response.content.decode().count("Added “") == 3

    top = [(s.heading, s.kind) for s in draft.sections.filter(parent=None).order_by("position")]
    assert top == [  # next week's draft keeps the recurring digest group and the closing
        ("Around the sector", "digest"), ("Research blog", "digest"),
        ("Hythe play area reopens", "article"), ("And lastly…", "closing"),
    ]  # fmt: skip
    sector = draft.sections.get(heading="Around the sector", parent=None)
    items = [(i.heading, i.kind) for i in sector.items.order_by("position")]
    assert items == [("Council funds two new youth centres", "digest_item")]
    youth = sector.items.get(heading="Council funds two new youth centres")
    assert (youth.body_markdown, youth.source) == ("Two centres open in spring.", "Partner news")
    assert [(link.url, link.source) for link in youth.links.all()] == [
        ("https://partner.example.org/youth", "Partner news")
    ]
    grant = draft.sections.get(heading="Research blog", parent=None).items.get()
    assert [(link.url, link.source) for link in grant.links.all()] == [
        ("https://blog.example.org/grant", "Research blog")
    ]
    mailed = draft.sections.get(heading="Hythe play area reopens")
    assert mailed.source == "Suggested by Sam Clerk" and mailed.links.get().url == "https://example.org/hythe"
    assert set(Contribution.objects.values_list("status", flat=True)) == {"accepted"}
    assert "0 waiting" in editor_client.get(reverse(CHANGELIST)).content.decode()


def feed_item(newsletter, title, **fields):
    return Contribution.objects.create(
        newsletter=newsletter, title=title, summary="s", origin="feed", source_name="Partner news",
        url=f"https://partner.example.org/{title.lower().replace(' ', '-')}", **fields,
    )  # fmt: skip


def test_the_editor_chooses_the_section_an_item_goes_into(editor_client, newsletter, draft):
    item = feed_item(newsletter, "Choose me", suggested_heading="Elsewhere")
    choose = posted(editor_client, "accept_into_section", [item]).content.decode()
    assert "Digest group “Around the sector”" in choose and "As an article before the closing section" in choose
    group = draft.sections.get(heading="Around the sector", parent=None)
    posted(editor_client, "accept_into_section", [item], section=group.pk)
    assert group.items.filter(heading="Choose me").exists()
    assert not draft.sections.filter(heading="Elsewhere").exists()


def test_a_section_of_another_issue_cannot_be_chosen(editor_client, newsletter, draft, make_issue):
    other = make_issue("Other", sections=[{"heading": "Theirs", "kind": "digest"}])
    item = feed_item(newsletter, "Stay put")
    response = posted(editor_client, "accept_into_section", [item], section=other.sections.get().pk)
    assert "not a digest group of the draft" in response.content.decode()
    assert Contribution.objects.get().status == "new"


def test_an_item_carries_the_topic_its_source_suggests(newsletter, draft):
    from newsletter.editor.contributions import accept

    topic = Topic.objects.create(newsletter=newsletter, name="Children", slug="children")
    section = accept(feed_item(newsletter, "Tagged", suggested_heading="Around the sector", suggested_topic=topic))
    assert list(section.topics.all()) == [topic] and section.kind == Section.Kind.DIGEST_ITEM


def test_a_declined_item_is_hidden_from_the_inbox_and_held_mail_can_be_accepted(editor_client, newsletter, draft):
    gone = feed_item(newsletter, "Not this one")
    held = Contribution.objects.create(
        newsletter=newsletter, title="From a stranger", summary="s", origin="mail", status="held",
        contact_email="someone@example.net",
    )  # fmt: skip
    posted(editor_client, "decline_selected", [gone])
    page = editor_client.get(reverse(CHANGELIST)).content.decode()
    assert "Not this one" not in page and "From a stranger" in page
    assert "Not this one" in editor_client.get(reverse(CHANGELIST) + "?status=declined").content.decode()
    posted(editor_client, "accept_into_draft", [held])
    held.refresh_from_db()
    assert held.status == "accepted" and held.section.issue == draft
    assert held.section.source == ""  # an address is never published
