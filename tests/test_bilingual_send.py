"""Sending a bilingual newsletter over a real SMTP server (tests/conftest.py smtp_server), tasks run in-process:
each reader gets exactly one message, in their language; the issue is rendered once per language (and per
topic edition), never per recipient."""

import pytest
from django.conf import settings

from newsletter import rendering
from newsletter.models import Delivery, Issue, Subscriber, Subscription, Topic, topic_key
from newsletter.sending import editions, workflow

pytestmark = pytest.mark.django_db(transaction=True)

WELSH, ENGLISH = "WELSH-TEXT", "ENGLISH-TEXT"


@pytest.fixture
def renders(monkeypatch):
    """Every template run of the issue email, by language."""
    seen = []
    real = rendering._render_issue

    def counting(issue, sections, web_url, language):
        seen.append(language)
        return real(issue, sections, web_url, language)

    monkeypatch.setattr(rendering, "_render_issue", counting)
    return seen


def readers(newsletter, languages, topics=()):
    """One active subscriber per entry of `languages` ("" is none chosen), with topic keys from `topics`."""
    people = Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"reader{n}@example.com", name=f"Reader {n}", language=lang)
            for n, lang in enumerate(languages)
        ]
    )
    Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber=p,
                newsletter=newsletter,
                status=Subscription.Status.ACTIVE,
                topics=topic_key(topics[n % len(topics)]) if topics else "",
            )
            for n, p in enumerate(people)
        ]
    )
    return people


def send(issue, django_capture_on_commit_callbacks, **options):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_send(issue, **options)
    issue.refresh_from_db()
    return issue


def by_recipient(server):
    return {
        recipients[0]: message for (_, recipients, _), message in zip(server.messages, server.parsed(), strict=True)
    }


def test_each_reader_gets_one_message_in_their_language_rendered_once_per_language(
    council, make_issue, smtp_server, renders, django_capture_on_commit_callbacks
):
    server = smtp_server()
    languages = ["cy", "en-gb", "", "cy", "en-gb", "cy", ""]
    people = readers(council, languages)
    issue = make_issue(
        "Spring news",
        newsletter=council,
        status=Issue.Status.DRAFT,
        second_title="Newyddion y gwanwyn",
        sections=[
            {"heading": "Parks", "body_markdown": ENGLISH, "second_heading": "Parciau", "second_body_markdown": WELSH}
        ],
    )

    issue = send(issue, django_capture_on_commit_callbacks)

    assert issue.status == Issue.Status.SENT
    assert server.per_recipient() == {p.email: 1 for p in people}
    received = by_recipient(server)
    for person, language in zip(people, languages, strict=True):
        message = received[person.email]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        welsh = language == "cy"
        assert message["Subject"] == ("Newyddion y gwanwyn" if welsh else "Spring news"), person.email
        assert message["Content-Language"] == ("cy" if welsh else "en-GB")
        for part in (text, html):
            assert (WELSH in part, ENGLISH in part) == (welsh, not welsh), person.email
        assert "%%" not in text and "%%" not in html
    # One rendering per language for 7 readers: the issue's own at send start, the Welsh edition at the freeze.
    assert sorted(renders) == ["cy", "en-gb"]
    welsh_edition = issue.editions.get()
    assert welsh_edition.language == "cy" and welsh_edition.recipients == 3
    assert Delivery.objects.filter(issue=issue, edition=welsh_edition).count() == 3
    assert Delivery.objects.filter(issue=issue, edition=None).count() == 4


def test_personal_editions_are_rendered_once_per_topic_set_and_language(
    council, make_issue, smtp_server, renders, django_capture_on_commit_callbacks
):
    server = smtp_server()
    health, events = (Topic.objects.create(newsletter=council, name=n, slug=n.lower()) for n in ("Health", "Events"))
    issue = make_issue(
        "Topics",
        newsletter=council,
        status=Issue.Status.DRAFT,
        sections=[
            {
                "heading": "Health",
                "body_markdown": "HEALTH-EN",
                "second_heading": "Iechyd",
                "second_body_markdown": "HEALTH-CY",
            },
            {
                "heading": "Events",
                "body_markdown": "EVENTS-EN",
                "second_heading": "Digwyddiadau",
                "second_body_markdown": "EVENTS-CY",
            },
        ],
    )
    first, second = issue.sections.order_by("position")
    first.topics.set([health])
    second.topics.set([events])
    choices = [(health.pk,), (events.pk,), ()]  # cycled over 12 readers: health only, events only, everything
    languages = ["cy", "en-gb", "", "cy"] * 3
    people = readers(council, languages, topics=choices)

    send(issue, django_capture_on_commit_callbacks, mode=editions.PERSONAL)

    assert server.per_recipient() == {p.email: 1 for p in people}
    received = by_recipient(server)
    for n, person in enumerate(people):
        text = received[person.email].get_body(("plain",)).get_content()
        suffix = "CY" if languages[n] == "cy" else "EN"
        chosen = choices[n % 3]
        assert ("HEALTH-" + suffix in text) == (not chosen or health.pk in chosen), person.email
        assert ("EVENTS-" + suffix in text) == (not chosen or events.pk in chosen), person.email
        assert "-EN" not in text if suffix == "CY" else "-CY" not in text
    # Three topic sets in each of two languages: six editions, each rendered once (plus the issue's own at start).
    assert issue.editions.count() == 6
    assert sorted(issue.editions.values_list("language", flat=True)) == ["cy"] * 3 + ["en-gb"] * 3
    assert len(renders) == 7


def test_a_newsletter_in_one_language_sends_as_before(
    make_issue, newsletter, smtp_server, renders, django_capture_on_commit_callbacks
):
    server = smtp_server()
    people = readers(newsletter, ["cy", "en-gb", ""])  # a Welsh reader of an English-only newsletter: English
    issue = make_issue("Plain", status=Issue.Status.DRAFT, sections=[{"heading": "One", "body_markdown": ENGLISH}])

    send(issue, django_capture_on_commit_callbacks)

    assert server.per_recipient() == {p.email: 1 for p in people}
    assert renders == [settings.LANGUAGE_CODE]
    assert not issue.editions.exists()
    assert not Delivery.objects.filter(issue=issue).exclude(edition=None).exists()


def test_a_test_send_of_a_bilingual_issue_sends_each_language(council, make_issue, smtp_server):
    server = smtp_server()
    issue = make_issue(
        "Spring news",
        newsletter=council,
        status=Issue.Status.DRAFT,
        second_title="Newyddion y gwanwyn",
        sections=[{"heading": "Parks", "body_markdown": ENGLISH, "second_body_markdown": WELSH}],
    )

    assert workflow.send_test(issue, ["editor@example.org"]) == 2

    subjects = sorted(message["Subject"] for message in server.parsed())
    assert subjects == ["[Test] Newyddion y gwanwyn", "[Test] Spring news"]
    assert not Delivery.objects.exists()


def test_review_and_send_says_how_many_get_each_language(council, make_issue, editor_client):
    readers(council, ["cy", "en-gb", "", "cy", "cy"])
    issue = make_issue("Spring news", newsletter=council, status=Issue.Status.DRAFT)

    page = editor_client.get(f"/admin/editor/issue/{issue.pk}/review/").content.decode()

    assert "5 active subscribers (2 in English, 3 in Cymraeg)" in page
