"""What every outgoing mail says about itself: Date with a real zone, Message-IDs on one domain, a named sender.

Issue mail is checked both as the raw bytes sent over SMTP and as it reaches a Django backend
(the outbox, locmem, providers); transactional mail as Django's EmailMessage writes it.
"""

import datetime
import email
import email.policy
import re

import pytest
from django.core import mail
from django.utils import timezone

from newsletter.mail import transactional
from newsletter.mail.headers import date_header, is_local_domain
from newsletter.mail.message import IssueEmail
from newsletter.models import Subscriber, Subscription
from newsletter.rendering import render_issue

NUMERIC_ZONE = re.compile(r"^\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


@pytest.fixture
def issue_mail(rich_issue):
    def build(delivery_id=7):
        rendered = render_issue(rich_issue)
        built = IssueEmail(rich_issue, subject=rendered.subject, html=rendered.html, text=rendered.text)
        return built.build(delivery_id=delivery_id, subscriber_id=1, address="ann@example.org", name="Ann")

    return build


@pytest.fixture
def person(newsletter):
    return Subscriber.objects.create(email="ann@example.org", name="Ann")


def confirmation(person, *newsletters):
    subscriptions = [
        Subscription.objects.create(subscriber=person, newsletter=n, status="pending") for n in newsletters
    ]
    return transactional.confirmation_message(person, subscriptions).message()


def welcome(person, newsletter):
    subscription, _ = Subscription.objects.update_or_create(
        subscriber=person, newsletter=newsletter, defaults={"status": "active", "confirmed_at": timezone.now()}
    )
    return transactional.welcome_message(subscription).message()


# Date ------------------------------------------------------------------------------------


def test_the_date_is_written_in_the_sites_time_zone_with_a_numeric_offset():
    summer = datetime.datetime(2011, 5, 24, 8, 0, tzinfo=datetime.UTC)
    winter = datetime.datetime(2011, 12, 24, 8, 0, tzinfo=datetime.UTC)
    assert date_header(summer) == "Tue, 24 May 2011 09:00:00 +0100"  # Europe/London, British Summer Time
    assert date_header(winter) == "Sat, 24 Dec 2011 08:00:00 +0000"


def test_no_mail_says_its_time_zone_is_unknown_or_writes_the_obsolete_gmt(issue_mail, person, newsletter):
    sent = issue_mail()
    dates = {
        "issue over SMTP": parse(sent.raw)["Date"],
        "issue through a Django backend": sent.as_django_message().message()["Date"],
        "confirmation": confirmation(person, newsletter)["Date"],
        "welcome": welcome(person, newsletter)["Date"],
    }
    assert {kind: bool(NUMERIC_ZONE.match(date)) for kind, date in dates.items()} == dict.fromkeys(dates, True)
    assert not [date for date in dates.values() if date.endswith(("-0000", "GMT"))]


# Message-ID ------------------------------------------------------------------------------


def test_message_ids_are_on_the_senders_domain_for_issue_and_transactional_mail(issue_mail, person, newsletter):
    newsletter.sender_email = "news@ssrg.example.org"
    newsletter.save()
    sent = issue_mail()

    ids = [
        parse(sent.raw)["Message-ID"],
        sent.as_django_message().message()["Message-ID"],
        issue_mail(delivery_id=None).message_id,  # a test send
        confirmation(person, newsletter)["Message-ID"],
        welcome(person, newsletter)["Message-ID"],
    ]
    assert [mid.rpartition("@")[2] for mid in ids] == ["ssrg.example.org>"] * 5


def test_without_a_real_sender_domain_message_ids_use_the_sites_host_not_localhost(
    issue_mail, person, newsletter, settings
):
    settings.DEFAULT_FROM_EMAIL = "newsletter@localhost"
    settings.SITE_URL = "https://news.example.org"
    sent = issue_mail()

    ids = [sent.message_id, confirmation(person, newsletter)["Message-ID"], welcome(person, newsletter)["Message-ID"]]
    assert [mid.rpartition("@")[2] for mid in ids] == ["news.example.org>"] * 3
    assert parse(sent.raw)["List-Id"] == "SSRG Weekly Update <weekly-update.news.example.org>"


def test_mail_from_elsewhere_written_to_the_outbox_gets_a_message_id_on_the_same_domain(settings, tmp_path):
    settings.EMAIL_BACKEND = "newsletter.mail.outbox.OutboxBackend"
    settings.OUTBOX_DIR = tmp_path
    settings.DEFAULT_FROM_EMAIL = "news@ssrg.example.org"

    mail.EmailMessage("Password reset", "Hello", to=["ann@example.org"]).send()

    [path] = tmp_path.glob("*.eml")
    assert parse(path.read_bytes())["Message-ID"].endswith("@ssrg.example.org>")


@pytest.mark.parametrize(
    ("domain", "local"),
    [
        ("localhost", True),
        ("mail.localhost", True),
        ("box.local", True),
        ("box.localdomain", True),
        ("intranet", True),
        ("", True),
        ("example.org", False),
        ("ssrg.example.org", False),
        ("news.example", False),
        ("xn--bcher-kva.example", False),
    ],
)
def test_local_domains_are_the_ones_that_mean_nothing_outside_this_machine(domain, local):
    assert is_local_domain(domain) is local


# From ------------------------------------------------------------------------------------


def test_confirmation_and_welcome_come_from_the_newsletters_sender_by_name(person, newsletter):
    newsletter.sender_name, newsletter.sender_email = "SSRG", "news@ssrg.example.org"
    newsletter.save()

    assert confirmation(person, newsletter)["From"] == "SSRG <news@ssrg.example.org>"
    assert welcome(person, newsletter)["From"] == "SSRG <news@ssrg.example.org>"


def test_a_newsletter_without_its_own_address_sends_from_the_default_under_its_own_name(person, newsletter, settings):
    settings.DEFAULT_FROM_EMAIL = "news@example.org"

    assert confirmation(person, newsletter)["From"] == "SSRG Weekly Update <news@example.org>"


def test_a_confirmation_for_several_newsletters_comes_from_the_default_under_the_sites_name(
    person, newsletter, make_newsletter, settings
):
    settings.DEFAULT_FROM_EMAIL, settings.SITE_URL = "news@example.org", "https://news.example.org"
    events = make_newsletter("Events")
    assert confirmation(person, newsletter, events)["From"] == '"news.example.org" <news@example.org>'

    settings.DEFAULT_FROM_EMAIL = "Our newsletters <news@example.org>"
    assert confirmation(Subscriber.objects.create(email="bo@example.org"), newsletter, events)["From"] == (
        "Our newsletters <news@example.org>"
    )
