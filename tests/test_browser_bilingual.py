"""A bilingual newsletter end to end in Chromium, every mail through the loopback SMTP server (conftest.smtp_server):
a Welsh reader (the browser asks for Welsh) subscribes, confirms from the mail, receives the issue in Welsh and opens
Welsh pages throughout (view in browser, preferences, unsubscribe); an English reader of the same newsletter gets
English throughout."""

import email
import email.policy
import re

import pytest
from django.conf import settings
from django.utils import translation

from newsletter.models import Issue, Subscriber, Subscription
from newsletter.sending import workflow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spring(make_issue, council):
    return make_issue(
        "Spring news",
        newsletter=council,
        status=Issue.Status.DRAFT,
        second_title="Newyddion y gwanwyn",
        intro="Welcome to spring.",
        second_intro="Croeso i’r gwanwyn.",
        sections=[
            {
                "heading": "Parks",
                "body_markdown": "The parks open at eight.",
                "second_heading": "Parciau",
                "second_body_markdown": "Mae’r parciau ar agor am wyth.",
            }
        ],
    )


def welsh(text):
    with translation.override("cy"):
        found = translation.gettext(text)
    assert found != text, f"no Welsh for {text!r} in the catalogue"
    return found


class Inbox:
    """The messages the loopback SMTP server accepted, for one address."""

    def __init__(self, server, live_server):
        self.server, self.base = server, live_server.url

    def messages(self, address):
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for _, recipients, raw in self.server.messages
            if address in recipients
        ]

    def last(self, address):
        return self.messages(address)[-1]

    def link(self, message, contains):
        html = message.get_body(("html",)).get_content()
        hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]
        found = next(h for h in hrefs if contains in h and h.startswith(settings.SITE_URL))
        return self.base + found.removeprefix(settings.SITE_URL)


@pytest.fixture
def inbox(smtp_server, live_server):
    return Inbox(smtp_server(), live_server)


def html_lang(page):
    return page.locator("html").get_attribute("lang")


def joined(browser, live_server, inbox, address, locale):
    """Subscribe from a browser speaking `locale` and confirm from the mail; (context, page, confirmation mail)."""
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/subscribe/")
    page.fill("input[name=email]", address)
    page.get_by_label("Council News").check()
    with page.expect_navigation():
        page.locator("form.subscribe-form [type=submit]").click()
    confirmation = inbox.last(address)
    page.goto(inbox.link(confirmation, "/confirm/"))
    with page.expect_navigation():
        page.locator("form.confirm-form [type=submit]").click()
    return context, page, confirmation


def test_a_welsh_reader_gets_welsh_and_an_english_reader_english_throughout(
    browser, live_server, inbox, council, spring, django_capture_on_commit_callbacks
):
    # The Welsh reader's browser asks for Welsh: the subscribe form offers Cymraeg first.
    context = browser.new_context(locale="cy", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/subscribe/")
    assert page.locator("input[name=language]:checked").get_attribute("value") == "cy"
    context.close()

    cy_context, cy_page, cy_confirmation = joined(browser, live_server, inbox, "ann@example.org", "cy")
    en_context, en_page, en_confirmation = joined(browser, live_server, inbox, "bob@example.org", "en-GB")

    # Confirmation mails in each one's language, their links to the confirm page in it, which said so.
    assert '<html lang="cy"' in cy_confirmation.get_body(("html",)).get_content()
    assert '<html lang="en-GB"' in en_confirmation.get_body(("html",)).get_content()
    assert cy_confirmation["Subject"] != en_confirmation["Subject"]
    assert inbox.link(cy_confirmation, "/confirm/").startswith(live_server.url + "/cy/")
    assert not inbox.link(en_confirmation, "/confirm/").startswith(live_server.url + "/cy/")
    assert html_lang(cy_page) == "cy" and html_lang(en_page) == "en-GB"
    assert Subscriber.objects.get(email="ann@example.org").language == "cy"
    assert Subscriber.objects.get(email="bob@example.org").language == "en-gb"
    assert set(Subscription.objects.values_list("status", flat=True)) == {Subscription.Status.ACTIVE}
    # Welcome mails: the newsletter's welcome in each language.
    assert "Diolch am ymuno." in inbox.last("ann@example.org").get_body(("plain",)).get_content()
    assert "Thanks for joining." in inbox.last("bob@example.org").get_body(("plain",)).get_content()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.start_send(spring)

    cy_mail, en_mail = inbox.last("ann@example.org"), inbox.last("bob@example.org")
    assert cy_mail["Subject"] == "Newyddion y gwanwyn" and en_mail["Subject"] == "Spring news"
    assert "Parciau" in cy_mail.get_body(("plain",)).get_content()
    assert "Parks" in en_mail.get_body(("plain",)).get_content()
    assert 'lang="cy"' in cy_mail.get_body(("html",)).get_content()

    # The Welsh reader's links open Welsh pages.
    cy_page.goto(inbox.link(cy_mail, "/council-news/"))
    assert html_lang(cy_page) == "cy" and "/cy/" in cy_page.url
    assert cy_page.locator("h1").inner_text() == "Newyddion y gwanwyn"
    assert "Croeso i’r gwanwyn." in cy_page.locator("article").inner_text()
    cy_page.goto(inbox.link(cy_mail, "/preferences/"))
    assert html_lang(cy_page) == "cy" and "/cy/" in cy_page.url
    assert cy_page.locator("input[name=language]:checked").get_attribute("value") == "cy"
    cy_page.goto(inbox.link(cy_mail, "/unsubscribe/"))
    assert html_lang(cy_page) == "cy"
    with cy_page.expect_navigation():
        cy_page.locator("form.confirm-form [type=submit]").click()
    assert cy_page.locator("h1").inner_text() == welsh("You are unsubscribed")

    # The English reader's open English pages.
    en_page.goto(inbox.link(en_mail, "/council-news/"))
    assert html_lang(en_page) == "en-GB" and "/cy/" not in en_page.url
    assert en_page.locator("h1").inner_text() == "Spring news"
    en_page.goto(inbox.link(en_mail, "/preferences/"))
    assert html_lang(en_page) == "en-GB"
    assert en_page.locator("input[name=language]:checked").get_attribute("value") == "en-gb"
    en_page.goto(inbox.link(en_mail, "/unsubscribe/"))
    with en_page.expect_navigation():
        en_page.locator("form.confirm-form [type=submit]").click()
    assert en_page.locator("h1").inner_text() == "You are unsubscribed"

    assert set(Subscription.objects.values_list("status", flat=True)) == {Subscription.Status.UNSUBSCRIBED}
    cy_context.close()
    en_context.close()
