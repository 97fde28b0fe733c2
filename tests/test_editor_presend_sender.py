"""The pre-send check's errors: mail that would come from a local address, and sections that would go out empty."""

import pytest
from django.urls import reverse

from newsletter.editor import presend
from newsletter.editor.weekly import start_next_issue
from newsletter.models import Section


def errors(issue, check):
    return [(f.where, f.message) for f in presend.run(issue) if f.check == check and f.is_error]


@pytest.fixture
def draft(make_issue):
    return make_issue(
        "Weekly update 31.05.11",
        status="draft",
        sections=[{"heading": "Parks", "body_markdown": "New benches in every park."}],
    )


# The sender ------------------------------------------------------------------------------


def test_a_newsletter_without_a_sender_falling_back_to_localhost_is_an_error_saying_where_to_fix_it(
    draft, newsletter, settings
):
    settings.DEFAULT_FROM_EMAIL = "newsletter@localhost"

    [(where, message)] = errors(draft, "sender")

    assert where == "the whole issue"
    assert "SSRG Weekly Update has no sender address" in message and "newsletter@localhost" in message
    assert reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]) in message


def test_a_sender_on_a_local_domain_is_an_error_too(draft, newsletter):
    newsletter.sender_email = "news@office.local"
    newsletter.save()

    [(_, message)] = errors(draft, "sender")
    assert "news@office.local is on a local domain" in message


def test_a_real_sender_or_a_real_default_address_is_no_error(draft, newsletter, settings):
    settings.DEFAULT_FROM_EMAIL = "news@example.org"
    assert errors(draft, "sender") == []

    settings.DEFAULT_FROM_EMAIL = "newsletter@localhost"
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.save()
    assert errors(draft, "sender") == []


# Empty sections --------------------------------------------------------------------------


def test_next_weeks_issue_left_as_carried_over_names_every_empty_section_as_an_error(rich_issue):
    draft = start_next_issue(rich_issue)

    found = errors(draft, "empty")

    assert [where for where, _ in found] == ["Weekly round-up", "Silly Sausage Corner", "And lastly…"]
    assert found[0][1].startswith("This group is empty") and found[1][1].startswith("This section is empty")


def test_sections_with_text_links_images_items_or_event_facts_are_not_empty(make_issue):
    issue = make_issue(
        "Full",
        status="draft",
        sections=[
            {"heading": "Text", "body_markdown": "Some news."},
            {"heading": "Only a link", "links": ["https://example.org/report"]},
            {"heading": "Group", "kind": Section.Kind.DIGEST, "items": [{"heading": "Item", "body_markdown": "News."}]},
            {"heading": "Meeting", "kind": Section.Kind.EVENT, "venue": "Town Hall"},
        ],
    )
    assert errors(issue, "empty") == []


def test_an_empty_item_in_a_group_with_content_is_named_with_its_group(make_issue):
    issue = make_issue(
        "Half",
        status="draft",
        sections=[
            {
                "heading": "Round-up",
                "kind": Section.Kind.DIGEST,
                "items": [{"heading": "Housing", "body_markdown": "Guidance."}, {"heading": "Care homes"}],
            },
            {"heading": "", "kind": Section.Kind.CLOSING, "body_markdown": "   \n"},
        ],
    )
    assert [where for where, _ in errors(issue, "empty")] == ["Round-up › Care homes", "Closing (“And lastly…”)"]


def test_the_contents_links_to_the_web_version_are_not_reported_missing_from_the_plain_text(draft):
    assert [f for f in presend.run(draft) if f.check == "plain-text"] == []
