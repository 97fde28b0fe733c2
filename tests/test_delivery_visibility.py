"""A subscribers-only issue, sent for real into a loopback SMTP server: each subscriber's "view in browser" link
(taken from the mail received) opens the issue for them; an altered link, or one subscriber's link to another
issue, opens only the invitation. A public issue's link drops the token and serves the shared page."""

import re

import pytest

from newsletter import tokens
from newsletter.mail.transactional import welcome_message
from newsletter.models import Issue, Subscription
from tests import test_delivery_send

pytestmark = pytest.mark.django_db
V = Issue.Visibility
# The sending tests' fixtures: a newsletter with a sender, subscribers, a draft and an eager send.
sender, subscribe = test_delivery_send.sender, test_delivery_send.subscribe
draft, send = test_delivery_send.draft, test_delivery_send.send


def web_links(message):
    """The web links of the plain-text part and the HTML part, as paths the test client opens."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    found = re.findall(r"View it in your browser: (\S+)", text) + re.findall(r'<a href="([^"]+)"[^>]*>View this', html)
    return [url.replace("&amp;", "&").replace("http://127.0.0.1:8000", "") for url in found]


def received(server):
    """{recipient address: its message} from what the SMTP server accepted."""
    return {rcpts[0]: message for (_, rcpts, _), message in zip(server.messages, server.parsed(), strict=True)}


def test_each_subscriber_opens_a_subscribers_only_issue_from_their_own_mail(
    client, draft, subscribe, send, smtp_server
):
    draft.visibility = V.SUBSCRIBERS
    draft.save()
    readers = subscribe(2)
    server = smtp_server()

    send(draft)

    mails = received(server)
    assert sorted(mails) == sorted(r.email for r in readers)
    opened = {}
    for reader in readers:
        text_link, html_link = web_links(mails[reader.email])
        assert text_link == html_link and "token=" in text_link
        response = client.get(text_link)
        assert response.status_code == 200, reader.email
        assert "This week's column is about sausages." in response.content.decode()
        assert response["Cache-Control"] == "private, no-store" and response["X-Robots-Tag"] == "noindex"
        opened[reader.email] = text_link
    assert len(set(opened.values())) == 2  # a token each

    anyone = client.get(draft.get_absolute_url())
    altered = client.get(opened[readers[0].email][:-3] + "xyz")
    for response in (anyone, altered):
        assert response.status_code == 403
        assert "sausages" not in response.content.decode() and draft.title not in response.content.decode()


def test_one_issues_link_does_not_open_another_subscribers_only_issue(
    client, draft, subscribe, send, smtp_server, make_issue
):
    other = make_issue("Members' briefing", status=Issue.Status.SENT, visibility=V.SUBSCRIBERS)
    subscribe(1)
    server = smtp_server()
    send(draft)
    [link] = {*web_links(server.parsed()[0])}
    token = link.partition("token=")[2]

    response = client.get(other.get_absolute_url(), {"token": token})

    assert response.status_code == 403


def test_a_public_issues_link_drops_the_token_for_the_shared_page(client, draft, subscribe, send, smtp_server):
    subscribe(1)
    server = smtp_server()
    send(draft)
    [link] = {*web_links(server.parsed()[0])}

    response = client.get(link)

    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert client.get(response["Location"]).status_code == 200


def test_with_click_counting_the_web_link_keeps_each_readers_token(client, draft, subscribe, send, sender, outbox):
    sender.count_clicks = True
    sender.save()
    draft.visibility = V.SUBSCRIBERS
    draft.save()
    subscribe(1)

    send(draft)

    [message] = outbox
    [link] = re.findall(r"View it in your browser: (\S+)", message.body)
    assert "/r/" not in link and "%%" not in link
    assert client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 200


@pytest.fixture
def outbox():
    from django.core import mail

    return mail.outbox


def test_the_welcome_mail_links_a_subscribers_only_latest_issue_that_opens(client, sender, make_issue, subscribe):
    latest = make_issue("Members only", status=Issue.Status.SENT, visibility=V.SUBSCRIBERS)
    [reader] = subscribe(1)

    message = welcome_message(Subscription.objects.get(subscriber=reader))

    [link] = [u for u in re.findall(r"https?://\S+", message.body) if latest.get_absolute_url() in u]
    assert client.get(link.replace("http://127.0.0.1:8000", "")).status_code == 200
    assert tokens.read_reader_token(link.partition("token=")[2], latest.pk) == reader.pk


def test_the_token_filled_into_bytes_encoded_once_is_what_encoding_each_copy_gives(rich_issue):
    """mail/message.py fills the reader token into a line's quoted-printable bytes made once per issue; the bytes are
    those of filling the line and encoding it per recipient, and no line passes 76 characters."""
    from newsletter.mail import message as mail_message
    from newsletter.rendering import render_issue

    rich_issue.visibility = V.SUBSCRIBERS  # its contents carry the token too
    rendered = render_issue(rich_issue)
    email = mail_message.IssueEmail(rich_issue, subject="S", html=rendered.html, text=rendered.text)
    values = {mail_message.READER_TOKEN: tokens.reader_token(4321, rich_issue.pk)}
    for segments, stuffed in ((email.html_segments, email.html_stuffed), (email.text_segments, email.text_stuffed)):
        assert any(isinstance(s, mail_message._TokenLine) for s in segments)
        plain = [str(s) if isinstance(s, mail_message._TokenLine) else s for s in segments]

        fast = mail_message._encode_segments(segments, stuffed, values)
        slow = mail_message._encode_segments(plain, stuffed, values)

        assert fast == slow
        assert max(len(line) for line in fast[0].split(b"\r\n")) <= 76
        assert values[mail_message.READER_TOKEN].encode() in fast[0]
