"""The mail as readers see it: contents links that work in every client, a footer that names the sender once,
and a confirmation whose copy-this-address line fits a phone."""

import pytest

from newsletter.mail import transactional
from newsletter.models import Subscriber, Subscription
from newsletter.rendering import READER_TOKEN, render_issue
from newsletter.tokens import absolute

PHONE_WIDTH = 390


def test_in_this_issue_links_open_each_section_on_the_web_version(client, rich_issue, parse_html):
    email = parse_html(render_issue(rich_issue).html)
    web_page = parse_html(client.get(rich_issue.get_absolute_url()))
    web_url = absolute(rich_issue.get_absolute_url())

    contents = [a.attrs["href"] for a in email.find("td", class_="toc").find_all("a")]
    pages = [href.partition("#")[0] for href in contents]
    anchors = [href.partition("#")[2] for href in contents]
    assert pages == [f"{web_url}?token={READER_TOKEN}"] * 5  # the recipient's reader token, filled per recipient
    web_sections = [s.attrs["id"] for s in web_page.find_all("section") if "section" in s.attrs.get("class", "")]
    assert anchors == [anchor for anchor in web_sections if anchor in anchors] and len(anchors) == 5
    # Gmail on iOS, Outlook mobile, Yahoo and Samsung Mail ignore in-page links: there are none left.
    assert not [a for a in email.find_all("a") if a.attrs.get("href", "").startswith("#")]


def test_the_footer_names_the_sender_once_when_it_is_the_newsletter_itself(rich_issue, newsletter, parse_html):
    newsletter.name = newsletter.sender_name = "Community Budgets Weekly Update"
    newsletter.sender_email = "news@example.org"
    newsletter.save()

    rendered = render_issue(rich_issue)
    footer = " ".join(parse_html(rendered.html).find("td", class_="footer").text.split())
    text_footer = rendered.text.split("-" * 72)[-1]

    assert "Sent by Community Budgets Weekly Update <news@example.org>." in footer
    assert footer.count("Community Budgets Weekly Update") == 2  # who sends it, and why you get it
    assert "Sent by Community Budgets Weekly Update <news@example.org>." in text_footer
    assert "sent by Community Budgets Weekly Update" not in footer + text_footer


def test_the_footer_names_a_different_sender_beside_the_newsletter(rich_issue, newsletter, parse_html):
    newsletter.sender_name, newsletter.sender_email = "SSRG", "news@ssrg.example.org"
    newsletter.save()

    footer = parse_html(render_issue(rich_issue).html).find("td", class_="footer").text
    assert "SSRG Weekly Update is sent by SSRG <news@ssrg.example.org>." in " ".join(footer.split())


@pytest.fixture
def confirmation_html(newsletter):
    person = Subscriber.objects.create(email="ann.long-address@example.org", name="Ann")
    subscription = Subscription.objects.create(subscriber=person, newsletter=newsletter, status="pending")
    message = transactional.confirmation_message(person, [subscription], name="Ann Ödegård-Smith")
    return message.alternatives[0][0]


def test_the_confirmation_address_to_copy_may_break_anywhere(confirmation_html, parse_html):
    line = next(p for p in parse_html(confirmation_html).find_all("p") if "copy this address" in p.text)
    url = line.find("span")
    assert "/subscribe/confirm/" in url.text
    assert "word-break:break-all" in url.attrs["style"] and "overflow-wrap:anywhere" in url.attrs["style"]


def width_on_a_phone(browser, html):
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 800})
    try:
        page = context.new_page()
        page.set_content(html)
        return page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()


def test_the_confirmation_fits_a_phone_screen(browser, confirmation_html):
    assert width_on_a_phone(browser, confirmation_html) <= PHONE_WIDTH


def test_an_issue_quoting_a_long_address_fits_a_phone_screen(browser, make_issue):
    long_url = "http://www.communities.gov.uk/publications/localgovernment/communitybudgetsprospectus2011"
    issue = make_issue("Long links", sections=[{"heading": "Reading", "body_markdown": f"See <{long_url}>."}])

    assert width_on_a_phone(browser, render_issue(issue).html) <= PHONE_WIDTH
