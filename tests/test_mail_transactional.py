"""Mail about a subscription (newsletter/mail/transactional.py): the confirmation request and the welcome,
read as a mail client would read them: subject, sender, greeting, signed links, headers, both parts."""

import datetime
import email
import re
from email import policy

import pytest
from django.core import mail

from newsletter import tokens
from newsletter.mail import transactional
from newsletter.models import Issue, Subscriber, Subscription


@pytest.fixture
def weekly(newsletter):
    newsletter.sender_name = "SSRG News Desk"
    newsletter.sender_email = "news@example.org"
    newsletter.reply_to = "editor@example.org"
    newsletter.postal_address = "1 High Street\nHereford HR4 9QU"
    newsletter.welcome_message = "Thanks for joining **us**. Our [events](https://example.org/events) are free."
    newsletter.save()
    return newsletter


@pytest.fixture
def events(make_newsletter):
    return make_newsletter("Events", sender_email="events@example.org")


def person(*newsletters, email="ann@example.org", name="Ann", status=Subscription.Status.PENDING):
    subscriber = Subscriber.objects.create(email=email, name=name)
    for newsletter in newsletters:
        Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=status)
    return subscriber


def received(message):
    """The message as it goes over the wire, parsed back as a mail client would."""
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def parts(message):
    parsed = received(message)
    return parsed.get_body(("plain",)).get_content(), parsed.get_body(("html",)).get_content()


def links(text, path):
    return [url for url in re.findall(r"https?://[^\s\"<>]+", text) if path in url]


def token_of(url):
    return url.rstrip("/").rsplit("/", 1)[1]


def confirmation(subscriber, name=""):
    assert transactional.send_confirmation(subscriber.pk, name) is True
    return mail.outbox[-1]


def welcome(subscriber, newsletter):
    subscription = Subscription.objects.get(subscriber=subscriber, newsletter=newsletter)
    assert transactional.send_welcome(subscription.pk) is True
    return mail.outbox[-1]


# The confirmation request -----------------------------------------------------------------


def test_the_confirmation_names_the_newsletter_comes_from_its_sender_and_greets_by_the_stored_name(weekly):
    parsed = received(confirmation(person(weekly)))

    assert parsed["Subject"] == "Please confirm: SSRG Weekly Update"
    assert parsed["From"] == "SSRG News Desk <news@example.org>"
    assert parsed["Reply-To"] == "editor@example.org"
    assert parsed["To"] == "ann@example.org"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"] and parsed["Message-ID"]
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.startswith("Hello Ann,")
    assert "<p>Hello Ann,</p>" in html
    assert "asked for ann@example.org to receive:\n\n- SSRG Weekly Update" in text
    assert "<strong>ann@example.org</strong>" in html and "<li>SSRG Weekly Update</li>" in html


def test_the_confirmation_has_a_plain_text_and_an_html_part(weekly):
    parsed = received(confirmation(person(weekly)))

    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_the_confirm_link_is_in_both_parts_and_signed_for_this_person_and_newsletter(weekly):
    ann = person(weekly)
    text, html = parts(confirmation(ann))

    (link,) = links(text, "/subscribe/confirm/")
    assert link.startswith("http://127.0.0.1:8000/subscribe/confirm/")
    assert tokens.read_confirm_token(token_of(link)) == (ann.pk, [weekly.pk], "")
    assert f'<a href="{link}"' in html and "Confirm my subscription</a>" in html
    assert "The link works for 7 days." in " ".join(text.split())
    assert "The link works for 7 days." in " ".join(html.split())


def test_the_confirmation_is_not_list_mail_so_it_has_no_list_unsubscribe(weekly):
    parsed = received(confirmation(person(weekly)))

    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None
    assert not links(parsed.get_body(("plain",)).get_content(), "/unsubscribe/")


def test_one_confirmation_covers_every_pending_newsletter_and_then_comes_from_the_site(weekly, events):
    ann = person(weekly, events)
    parsed = received(confirmation(ann))

    assert parsed["Subject"] == "Please confirm: Events, SSRG Weekly Update"
    assert parsed["From"].addresses[0].addr_spec == "newsletter@localhost"  # neither one's sender speaks for both
    assert parsed["Reply-To"] is None
    (link,) = links(parsed.get_body(("plain",)).get_content(), "/subscribe/confirm/")
    assert tokens.read_confirm_token(token_of(link)) == (ann.pk, sorted([weekly.pk, events.pk]), "")


def test_a_newsletter_without_its_own_sender_is_mailed_from_the_site_address(make_newsletter):
    plain = make_newsletter("Plain")

    assert received(confirmation(person(plain)))["From"].addresses[0].addr_spec == "newsletter@localhost"


def test_only_pending_newsletters_are_asked_about(weekly, events):
    ann = person(weekly)
    Subscription.objects.create(subscriber=ann, newsletter=events, status=Subscription.Status.ACTIVE)

    parsed = received(confirmation(ann))

    assert parsed["Subject"] == "Please confirm: SSRG Weekly Update"
    (link,) = links(parsed.get_body(("plain",)).get_content(), "/subscribe/confirm/")
    assert tokens.read_confirm_token(token_of(link))[1] == [weekly.pk]


def test_without_a_stored_name_the_greeting_is_plain(weekly):
    text, html = parts(confirmation(person(weekly, name="")))

    assert text.startswith("Hello,\n")
    assert "<p>Hello,</p>" in html


def test_a_requested_name_travels_only_in_the_signed_link(weekly):
    ann = person(weekly, name="Ann")
    message = confirmation(ann, name="Ann Smith")
    text, html = parts(message)

    assert "Ann Smith" not in text + html + message.subject
    assert "Confirming also changes the name we greet you by" in text
    assert "Confirming also changes the name we greet you by" in html
    (link,) = links(text, "/subscribe/confirm/")
    assert tokens.read_confirm_token(token_of(link)) == (ann.pk, [weekly.pk], "Ann Smith")


def test_a_stored_name_is_escaped_in_the_html_part(weekly):
    text, html = parts(confirmation(person(weekly, name="Ann <b>Bold</b> & Co")))

    assert text.startswith("Hello Ann <b>Bold</b> & Co,")
    assert "Hello Ann &lt;b&gt;Bold&lt;/b&gt; &amp; Co," in html


def test_an_international_domain_is_shown_in_its_own_letters(weekly):
    text, html = parts(confirmation(person(weekly, email="ann@xn--bcher-kva.example")))

    assert "asked for ann@bücher.example to receive" in text
    assert "<strong>ann@bücher.example</strong>" in html


def test_a_confirmation_is_sent_only_while_something_is_pending(weekly):
    ann = person(weekly)
    confirmation(ann)

    Subscription.objects.update(status=Subscription.Status.ACTIVE)
    assert transactional.send_confirmation(ann.pk) is False  # nothing pending: nothing sent
    assert transactional.send_confirmation(ann.pk + 1000) is False  # erased meanwhile
    assert len(mail.outbox) == 1


# The welcome ------------------------------------------------------------------------------


@pytest.fixture
def ann(weekly):
    return person(weekly, status=Subscription.Status.ACTIVE)


def test_the_welcome_names_the_newsletter_comes_from_its_sender_and_greets_by_name(weekly, ann):
    parsed = received(welcome(ann, weekly))

    assert parsed["Subject"] == "Welcome to SSRG Weekly Update"
    assert parsed["From"] == "SSRG News Desk <news@example.org>"
    assert parsed["Reply-To"] == "editor@example.org"
    assert parsed["To"] == "ann@example.org"
    assert parsed["Auto-Submitted"] == "auto-generated"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.startswith("Hello Ann,\n\nYou are now subscribed to SSRG Weekly Update.")
    assert "<p>Hello Ann,</p>" in html and "<strong>SSRG Weekly Update</strong>" in html


def test_the_welcome_has_a_plain_text_and_an_html_part(weekly, ann):
    parsed = received(welcome(ann, weekly))

    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_the_welcome_text_is_the_newsletters_own_markdown_rendered_in_html(weekly, ann):
    text, html = parts(welcome(ann, weekly))

    assert "Thanks for joining **us**." in text  # as the editor wrote it
    assert "https://example.org/events" in text
    assert "<strong>us</strong>" in html
    assert '<a href="https://example.org/events"' in html


def test_the_welcome_links_to_the_latest_published_issue_and_the_archive(weekly, ann, make_issue):
    make_issue("Weekly update 10 May 2011", issue_date=datetime.date(2011, 5, 10), newsletter=weekly)
    make_issue("Weekly update 24 May 2011", issue_date=datetime.date(2011, 5, 24), newsletter=weekly)
    make_issue("Draft: next week", status=Issue.Status.DRAFT, issue_date=datetime.date(2011, 6, 1), newsletter=weekly)

    text, html = parts(welcome(ann, weekly))

    latest = "http://127.0.0.1:8000/weekly-update/weekly-update-24-may-2011/"
    assert f"The latest issue, Weekly update 24 May 2011:\n{latest}" in text
    assert f'<a href="{latest}">Weekly update 24 May 2011</a>' in html
    assert "Every past issue: http://127.0.0.1:8000/weekly-update/" in text
    assert "Draft" not in text + html


def test_without_any_issue_the_welcome_still_links_to_the_archive(weekly, ann):
    text, _ = parts(welcome(ann, weekly))

    assert "The latest issue" not in text
    assert "Every past issue: http://127.0.0.1:8000/weekly-update/" in text


def test_the_welcome_links_to_signed_preferences_and_unsubscribe_pages_in_both_parts(weekly, ann):
    text, html = parts(welcome(ann, weekly))

    (preferences,) = links(text, "/preferences/")
    (unsubscribe,) = links(text, "/unsubscribe/")
    assert tokens.read_preferences_token(token_of(preferences)) == ann.pk
    assert tokens.read_unsubscribe_token(token_of(unsubscribe)) == (ann.pk, weekly.pk)
    assert f'<a href="{preferences}">' in html and f'<a href="{unsubscribe}">Unsubscribe</a>' in html


def test_the_welcome_carries_one_click_list_unsubscribe_headers(weekly, ann):
    parsed = received(welcome(ann, weekly))

    unsubscribe = parsed["List-Unsubscribe"].strip()  # a long header may be folded right after its name
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/unsubscribe/[^>]+/>", unsubscribe)
    assert tokens.read_unsubscribe_token(token_of(unsubscribe.strip("<>"))) == (ann.pk, weekly.pk)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_welcome_footer_shows_the_postal_address(weekly, ann):
    text, html = parts(welcome(ann, weekly))

    assert "1 High Street\nHereford HR4 9QU" in text
    assert "1 High Street<br>Hereford HR4 9QU" in html


def test_no_welcome_once_the_person_has_left(weekly, ann):
    subscription = Subscription.objects.get()
    subscription.status = Subscription.Status.UNSUBSCRIBED
    subscription.save()

    assert transactional.send_welcome(subscription.pk) is False
    assert transactional.send_welcome(subscription.pk + 1000) is False
    assert mail.outbox == []


def test_a_sender_name_with_accents_or_a_comma_reaches_the_reader_intact(make_newsletter):
    cafe = make_newsletter(
        "Café, Société & Co", slug="cafe", sender_name="Zoë Müller, editor", sender_email="zoe@example.org"
    )
    reader = person(cafe, status=Subscription.Status.ACTIVE)

    parsed = received(welcome(reader, cafe))

    (sender,) = parsed["From"].addresses  # one sender: the comma is quoted, not a second address
    assert (sender.display_name, sender.addr_spec) == ("Zoë Müller, editor", "zoe@example.org")
    assert parsed["Subject"] == "Welcome to Café, Société & Co"
    assert "<strong>Café, Société &amp; Co</strong>" in parsed.get_body(("html",)).get_content()
