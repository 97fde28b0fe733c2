"""Mail into the inbox, read from a real Maildir through the reader bounces use (newsletter.mail.inbound):
an allowed sender's item arrives, a stranger's is held, a sender is rate-limited, attachments are ignored,
HTML-only mail is sanitised, oversize mail is refused unread."""

import mailbox
from email.message import EmailMessage
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from newsletter.inbox import mailin
from newsletter.mail import inbound
from newsletter.mail.addresses import contribution_address, contribution_slug
from newsletter.models import Contribution, ContributionMailbox

pytestmark = pytest.mark.django_db

TO = "contribute+weekly-update@ssrg.example.org"


@pytest.fixture
def mailbox_of(newsletter, settings, fresh_cache):
    settings.CONTRIBUTIONS_ADDRESS = "contribute@ssrg.example.org"
    return ContributionMailbox.objects.create(
        newsletter=newsletter, allowed_senders="sam@partner.example.org\n@ssrg.example.org"
    )


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "contributions", create=True)

    def deliver(*messages):
        for message in messages:
            box.add(message.as_bytes() if isinstance(message, EmailMessage) else message)
        return str(tmp_path / "contributions")

    return deliver


def mail(sender="Sam Clerk <sam@partner.example.org>", to=TO, subject="New play area in Hythe", text=None, html=None):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = "Fri, 27 Nov 2026 10:00:00 +0000"
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def test_the_address_names_the_newsletter(mailbox_of, newsletter):
    assert contribution_address(newsletter) == TO
    assert contribution_slug(["someone@else.org", TO.upper()]) == "weekly-update"
    assert contribution_slug(["contribute+weekly-update@other.example"]) is None


def test_an_allowed_senders_mail_becomes_a_new_item(mailbox_of, maildir, newsletter):
    path = maildir(mail(text="The park reopens.\nSee https://example.org/hythe, and more.\n"))
    out = StringIO()
    call_command("process_contributions", maildir=path, stdout=out)
    item = Contribution.objects.get()
    assert (item.title, item.url, item.status, item.origin) == (
        "New play area in Hythe", "https://example.org/hythe", "new", "mail",
    )  # fmt: skip
    assert (item.contact_email, item.contact_name, item.newsletter) == (
        "sam@partner.example.org",
        "Sam Clerk",
        newsletter,
    )
    assert "The park reopens." in item.summary and item.published_at.year == 2026
    assert out.getvalue().startswith("1 new item(s), 0 held for review")
    call_command("process_contributions", maildir=path, stdout=StringIO())  # read once only
    assert Contribution.objects.count() == 1


def test_a_whole_domain_and_the_editors_own_addresses_are_allowed(mailbox_of, maildir):
    get_user_model().objects.create_user("ed2", "ed2@elsewhere.example", "x", is_staff=True)
    path = maildir(mail(sender="kim@ssrg.example.org", text="x"), mail(sender="ed2@elsewhere.example", text="y"))
    report = mailin.process_contributions(maildir=path)
    assert (report.new, report.held) == (2, 0)


def test_a_strangers_mail_is_held_and_can_change_nothing_else(mailbox_of, maildir, newsletter, editor_client):
    path = maildir(mail(sender="Mallory <mallory@evil.example>", subject="Buy now", text="https://evil.example/x"))
    report = mailin.process_contributions(maildir=path)
    assert (report.new, report.held) == (0, 1)
    held = Contribution.objects.get()
    assert (held.status, held.contact_email) == ("held", "mallory@evil.example")
    assert not Contribution.objects.waiting().exists()
    page = editor_client.get(reverse("admin:newsletter_contribution_changelist")).content.decode()
    assert "0 waiting, 1 held for review" in page and "Email from Mallory" in page
    editor_client.post(
        reverse("admin:newsletter_contribution_changelist"),
        {"action": "release_held", "_selected_action": [held.pk]},
    )
    assert Contribution.objects.get().status == "new"


def test_mail_to_another_address_or_a_newsletter_without_a_mailbox_is_ignored(mailbox_of, maildir):
    path = maildir(mail(to="contribute+no-such-newsletter@ssrg.example.org", text="x"), mail(to="info@x.org", text="y"))
    report = mailin.process_contributions(maildir=path)
    assert (report.ignored, Contribution.objects.count()) == (2, 0)


def test_each_sender_is_rate_limited(mailbox_of, maildir, settings):
    settings.CONTRIBUTIONS_MAIL_PER_SENDER = 2
    path = maildir(
        *[mail(subject=f"Item {n}", text="x") for n in range(4)], mail(sender="kim@ssrg.example.org", text="x")
    )
    report = mailin.process_contributions(maildir=path)
    assert (report.new, report.rate_limited) == (3, 2)
    assert Contribution.objects.filter(contact_email="sam@partner.example.org").count() == 2


def test_strangers_together_cannot_flood_the_held_items(mailbox_of, maildir, settings):
    settings.CONTRIBUTIONS_HELD_PER_NEWSLETTER = 3
    path = maildir(*[mail(sender=f"bot{n}@spam.example", text="x") for n in range(5)])
    report = mailin.process_contributions(maildir=path)
    assert (report.held, report.rate_limited) == (3, 2)


def test_attachments_are_ignored(mailbox_of, maildir):
    message = mail(text="Our report is out: https://example.org/report")
    message.add_attachment(b"%PDF-1.4 secret", maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment("https://attached.example/not-this", subtype="plain", filename="notes.txt")
    mailin.process_contributions(maildir=maildir(message))
    item = Contribution.objects.get()
    assert item.url == "https://example.org/report"
    assert "PDF" not in item.summary and "attached.example" not in item.summary


def test_html_only_mail_is_sanitised(mailbox_of, maildir):
    html = (
        '<html><body><p>Read <a href="https://example.org/news">the <b>news</b></a> &amp; more.</p>'
        "<script>steal()</script><img src=x onerror=alert(1)><p>[click](javascript:alert(2))</p></body></html>"
    )
    mailin.process_contributions(maildir=maildir(mail(subject="<b>Big</b> news", html=html)))
    item = Contribution.objects.get()
    assert item.title == "Big news" and item.url == "https://example.org/news"
    assert "<" not in item.summary and "steal" not in item.summary and "onerror" not in item.summary
    assert "Read the news &amp; more." in item.summary
    from newsletter.markup import markdown_problems, markdown_to_html

    assert markdown_problems(item.summary) == [] and "href" not in markdown_to_html(item.summary)


def test_an_oversize_message_is_refused_unread(mailbox_of, maildir, settings):
    settings.CONTRIBUTIONS_MAX_MESSAGE_BYTES = 10_000
    path = maildir(mail(text="big " * 5000), mail(subject="Small", text="fine"))
    with mock.patch.object(inbound.email, "message_from_bytes", wraps=inbound.email.message_from_bytes) as parsed:
        report = mailin.process_contributions(maildir=path)
    assert (report.too_large, report.new) == (1, 1) and parsed.call_count == 1
    assert list(Contribution.objects.values_list("title", flat=True)) == ["Small"]


def test_without_a_maildir_or_imap_url_the_command_says_what_to_set(settings):
    settings.CONTRIBUTIONS_IMAP_URL = ""
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="CONTRIBUTIONS_IMAP_URL"):
        call_command("process_contributions", stdout=StringIO())


def test_the_beat_task_does_nothing_without_an_imap_url(settings):
    from newsletter.inbox.tasks import read_contribution_mailbox

    settings.CONTRIBUTIONS_IMAP_URL = ""
    assert read_contribution_mailbox.delay().get() == 0


def test_editors_set_up_the_mailbox_in_the_admin_and_see_its_address(editor_client, newsletter, settings):
    settings.CONTRIBUTIONS_ADDRESS = "contribute@ssrg.example.org"
    response = editor_client.post(reverse("admin:newsletter_contributionmailbox_add"), {
        "newsletter": newsletter.pk, "enabled": "on", "section_heading": "From colleagues",
        "allowed_senders": " sam@partner.example.org \n\n@ssrg.example.org",
    })  # fmt: skip
    assert response.status_code == 302
    box = ContributionMailbox.objects.get()
    assert box.allowed_senders == "sam@partner.example.org\n@ssrg.example.org"
    page = editor_client.get(reverse("admin:newsletter_contributionmailbox_changelist")).content.decode()
    assert TO in page
    bad = editor_client.post(reverse("admin:newsletter_contributionmailbox_change", args=[box.pk]), {
        "newsletter": newsletter.pk, "allowed_senders": "not an address",
    })  # fmt: skip
    assert "Not an address or @domain: not an address." in bad.content.decode()


def test_held_mail_is_announced_to_webhooks_as_held_without_its_sender(
    mailbox_of, maildir, settings, django_capture_on_commit_callbacks
):
    import json
    from unittest import mock

    from newsletter.models import WebhookEndpoint
    from newsletter.webhooks import tasks

    WebhookEndpoint.objects.create(newsletter=mailbox_of.newsletter, url="https://hooks.example.org/x",
                                   events=["contribution.received"])  # fmt: skip
    with mock.patch.object(tasks.deliver, "delay") as queued, django_capture_on_commit_callbacks(execute=True):
        mailin.process_contributions(maildir=maildir(mail(sender="Mallory <mallory@evil.example>", text="x")))
    (_, event, body, _), _ = queued.call_args
    data = json.loads(body)["data"]["contribution"]
    assert (event, data["origin"], data["status"]) == ("contribution.received", "mail", "held")
    assert "mallory" not in body.lower()


def test_the_imap_mailbox_is_read_once_and_oversize_mail_is_not_even_fetched(mailbox_of, imap_server, settings):
    """The same IMAP reader as process_bounces, against a real IMAP server on loopback (tests/imap_helpers.py)."""
    from newsletter.inbox.tasks import read_contribution_mailbox

    url, box = imap_server
    settings.CONTRIBUTIONS_IMAP_URL, settings.CONTRIBUTIONS_MAX_MESSAGE_BYTES = url, 10_000
    box.add(mail(text="big " * 5000).as_bytes())
    box.add(mail(subject="By IMAP", text="Read https://example.org/imap").as_bytes())
    assert read_contribution_mailbox.delay().get() == 1
    item = Contribution.objects.get()
    assert (item.title, item.url, item.status) == ("By IMAP", "https://example.org/imap", "new")
    assert "FETCH 1 (RFC822)" not in box.commands and "FETCH 2 (RFC822)" in box.commands
    assert all(seen for _, seen in box.messages)
    assert read_contribution_mailbox.delay().get() == 0  # marked seen: taken once
    assert Contribution.objects.count() == 1
