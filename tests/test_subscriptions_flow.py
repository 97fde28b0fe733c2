"""A reader subscribes on the site, confirms from the email, changes preferences and leaves, through the test client."""

import datetime

import pytest
from django.core import mail, signing
from django.urls import reverse

from newsletter import tokens
from newsletter.models import Delivery, Issue, Subscriber, Subscription, Suppression

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST as a browser would, running the on-commit hooks (the Celery tasks that send mail)."""

    def send(path, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, **kwargs)

    return send


@pytest.fixture
def weekly(newsletter):
    newsletter.welcome_message = "Thanks for joining **us**."
    newsletter.save()
    return newsletter


def subscribe(post, email="ann@example.org", name="Ann", newsletters=("weekly-update",), **extra):
    return post(reverse("subscriptions:subscribe"), {"email": email, "name": name, "newsletters": newsletters, **extra})


def test_subscribing_sends_one_confirmation_and_activates_nothing_yet(post, weekly, mail_links):
    response = subscribe(post)

    assert response.status_code == 200
    assert "Check your inbox" in response.text
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.method == Subscription.Method.FORM
    assert subscription.consent_text and subscription.privacy_notice_version and subscription.consented_at
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann@example.org"]
    assert "SSRG Weekly Update" in message.subject
    assert any("/subscribe/confirm/" in link for link in mail_links(message))
    assert message.alternatives and "Confirm my subscription" in message.alternatives[0][0]


def test_the_whole_flow_confirm_welcome_preferences_one_click_unsubscribe(
    client, post, weekly, make_issue, mail_links, parse_html
):
    make_issue("Weekly update 24 May 2011", issue_date=datetime.date(2011, 5, 24), newsletter=weekly)
    subscribe(post)
    confirm_path = next(link for link in mail_links(mail.outbox[0]) if "/confirm/" in link)

    # Opening the link (as a mail scanner would) changes nothing.
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert parse_html(page).find("form", class_="confirm-form").find("button").text == "Confirm"
    assert Subscription.objects.get().status == Subscription.Status.PENDING

    confirmed = post(confirm_path)
    assert "You are subscribed" in confirmed.text
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.ACTIVE and subscription.confirmed_at

    welcome = mail.outbox[1]
    assert welcome.subject == "Welcome to SSRG Weekly Update"
    assert "Thanks for joining **us**." in welcome.body
    assert "<strong>us</strong>" in welcome.alternatives[0][0]
    links = mail_links(welcome)
    assert "/weekly-update/weekly-update-24-may-2011/" in links
    assert welcome.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    preferences = client.get(next(link for link in links if "/preferences/" in link))
    assert preferences.status_code == 200
    assert "ann@example.org" in parse_html(preferences).find(class_="acting-on").text
    assert "Subscribe form" in preferences.text  # how consent was given
    assert subscription.consent_text in preferences.text

    unsubscribe_path = next(link for link in links if "/unsubscribe/" in link)
    assert client.get(unsubscribe_path).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE  # a GET never unsubscribes

    response = client.post(
        unsubscribe_path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200  # not a redirect
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED
    assert not Subscription.objects.active().exists()
    assert Suppression.is_suppressed("ann@example.org")


def test_one_click_post_needs_no_csrf_token_and_is_idempotent(weekly):
    from django.test import Client

    ann = Subscriber.objects.create(email="ann@example.org")
    Subscription.objects.create(subscriber=ann, newsletter=weekly, status=Subscription.Status.ACTIVE)
    strict = Client(enforce_csrf_checks=True)
    path = tokens.unsubscribe_url(ann.pk, weekly.pk).removeprefix("http://127.0.0.1:8000")

    for _ in range(2):
        response = strict.post(path, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200

    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED


def test_a_post_without_the_one_click_body_unsubscribes_nobody(client, weekly):
    ann = Subscriber.objects.create(email="ann@example.org")
    Subscription.objects.create(subscriber=ann, newsletter=weekly, status=Subscription.Status.ACTIVE)
    path = tokens.unsubscribe_url(ann.pk, weekly.pk).removeprefix("http://127.0.0.1:8000")

    assert client.post(path, {}).status_code == 400
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_the_answer_is_identical_for_new_pending_and_active_addresses(post, weekly):
    new = subscribe(post)
    pending = subscribe(post)
    Subscription.objects.update(status=Subscription.Status.ACTIVE)
    active = subscribe(post)

    assert new.status_code == pending.status_code == active.status_code == 200
    assert new.content == pending.content == active.content
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE  # re-subscribing changed nothing


def test_confirmation_mails_to_one_address_are_throttled(client, post, weekly, django_capture_on_commit_callbacks):
    subscribe(post)
    # Asked again twice within CONFIRMATION_MIN_INTERVAL: one more mail, held (like a worker holds an ETA
    # task) until the interval ends; the third request finds it planned and adds none.
    with django_capture_on_commit_callbacks() as planned:
        for _ in range(2):
            client.post(
                reverse("subscriptions:subscribe"), {"email": "ann@example.org", "newsletters": ["weekly-update"]}
            )

    assert len(mail.outbox) == 1 and len(planned) == 1
    planned[0]()
    assert len(mail.outbox) == 2


def test_rejoining_after_unsubscribing_needs_a_new_confirmation(post, weekly, mail_links):
    subscribe(post)
    post(next(link for link in mail_links(mail.outbox[0]) if "/confirm/" in link))
    subscription = Subscription.objects.get()
    Subscription.objects.update(status=Subscription.Status.UNSUBSCRIBED)
    Subscriber.objects.update(last_confirmation_sent_at=None)

    subscribe(post)

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    assert "Please confirm" in mail.outbox[-1].subject


def test_the_honeypot_answers_like_success_and_writes_nothing(post, weekly):
    response = subscribe(post, website="http://spam.example")

    assert response.status_code == 200 and "Check your inbox" in response.text
    assert not Subscriber.objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "complete email address"),
        ("ann@example.org\r\nBcc: victim@example.org", "line breaks"),
        ("a" * 250 + "@example.org", "too long"),
        ("ann@exa mple.org", "valid"),
    ],
)
def test_bad_addresses_get_a_clear_message_and_nothing_is_written(post, weekly, email, message):
    response = subscribe(post, email=email)

    assert response.status_code == 400
    assert message in response.text
    assert not Subscriber.objects.exists() and not mail.outbox


def test_a_name_with_a_newline_is_refused(post, weekly):
    response = subscribe(post, name="Ann\nBcc: x@example.org")

    assert response.status_code == 400
    assert "one line" in response.text
    assert not Subscriber.objects.exists()


def test_an_unknown_newsletter_is_refused(post, weekly):
    response = subscribe(post, newsletters=["nope"])

    assert response.status_code == 400
    assert "Unknown newsletter" in response.text
    assert not Subscriber.objects.exists()


def test_the_same_address_in_other_case_or_unicode_domain_is_one_subscriber(post, weekly):
    subscribe(post, email="Ann@Bücher.example")
    subscribe(post, email="ann@xn--bcher-kva.example")

    assert list(Subscriber.objects.values_list("email", flat=True)) == ["ann@xn--bcher-kva.example"]


def test_a_tampered_confirmation_link_is_refused(client, post, weekly, mail_links):
    subscribe(post)
    path = next(link for link in mail_links(mail.outbox[0]) if "/confirm/" in link)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    response = post(tampered)

    assert response.status_code == 400
    assert "not valid" in response.text
    assert Subscription.objects.get().status == Subscription.Status.PENDING


def test_a_confirmation_link_older_than_seven_days_has_expired(client, post, weekly, monkeypatch):
    subscribe(post)
    ann = Subscriber.objects.get()
    issued = signing.time.time()
    monkeypatch.setattr(signing.time, "time", lambda: issued - 8 * 24 * 3600)
    old = tokens.confirm_url(ann.pk, [weekly.pk]).removeprefix("http://127.0.0.1:8000")
    monkeypatch.undo()

    response = post(old)

    assert response.status_code == 400
    assert "expired" in response.text
    assert Subscription.objects.get().status == Subscription.Status.PENDING


def test_a_tampered_preferences_or_unsubscribe_link_is_refused(client, weekly):
    assert client.get("/preferences/abc:def/").status_code == 400
    assert client.post("/unsubscribe/abc:def/", {"List-Unsubscribe": "One-Click"}).status_code == 400


def test_preferences_change_name_leave_one_and_ask_to_confirm_a_new_one(
    client, post, weekly, make_newsletter, parse_html
):
    events = make_newsletter("Events")
    ann = Subscriber.objects.create(email="ann@example.org", name="Ann")
    Subscription.objects.create(subscriber=ann, newsletter=weekly, status=Subscription.Status.ACTIVE)
    path = tokens.preferences_url(ann.pk).removeprefix("http://127.0.0.1:8000")

    page = parse_html(client.get(path))
    assert "checked" in page.find("input", name="newsletters", value="weekly-update").attrs

    response = post(path, {"name": "Ann Smith", "newsletters": ["events"]})

    assert response.status_code == 200
    ann.refresh_from_db()
    assert ann.name == "Ann Smith"
    assert Subscription.objects.get(newsletter=weekly).status == Subscription.Status.UNSUBSCRIBED
    assert Subscription.objects.get(newsletter=events).status == Subscription.Status.PENDING
    assert "Please confirm: Events" in mail.outbox[-1].subject


def test_unsubscribe_from_all_on_the_preferences_page(client, weekly, make_newsletter):
    events = make_newsletter("Events")
    ann = Subscriber.objects.create(email="ann@example.org")
    for n in (weekly, events):
        Subscription.objects.create(subscriber=ann, newsletter=n, status=Subscription.Status.ACTIVE)
    path = tokens.preferences_url(ann.pk).removeprefix("http://127.0.0.1:8000")

    response = client.post(path, {"action": "unsubscribe_all"})

    assert response.status_code == 200
    assert not Subscription.objects.active().exists()


def test_erasing_from_preferences_deletes_the_person_but_keeps_delivery_figures(client, weekly, make_issue):
    ann = Subscriber.objects.create(email="ann@example.org", name="Ann")
    Subscription.objects.create(subscriber=ann, newsletter=weekly, status=Subscription.Status.ACTIVE)
    issue = make_issue("Sent one", status=Issue.Status.SENT, newsletter=weekly)
    Delivery.objects.create(issue=issue, subscriber=ann, status=Delivery.Status.SENT)
    path = tokens.preferences_url(ann.pk).removeprefix("http://127.0.0.1:8000")

    assert client.post(path, {"action": "erase"}).status_code == 200  # without the tick box: nothing
    assert Subscriber.objects.exists()
    response = client.post(path, {"action": "erase", "confirm_erase": "yes"})

    assert "Your data is deleted" in response.text
    assert not Subscriber.objects.exists() and not Subscription.objects.exists()
    delivery = Delivery.objects.get()
    assert delivery.subscriber is None and delivery.status == Delivery.Status.SENT
    assert Suppression.objects.get().reason == Suppression.Reason.ERASED
    assert client.get(path).status_code == 404


def test_the_archive_pages_carry_a_subscribe_form_for_their_newsletter(client, weekly, parse_html):
    page = parse_html(client.get(weekly.get_absolute_url()))

    form = page.find("form", class_="subscribe-form")
    assert form.attrs["action"] == "/subscribe/"
    assert form.find("input", name="newsletters").attrs["value"] == "weekly-update"
    assert form.find("input", name="email") is not None
    assert form.find("input", name="csrfmiddlewaretoken") is None  # pages stay cacheable


def test_the_box_without_a_newsletter_choice_subscribes_to_the_only_newsletter(post, weekly):
    response = post(reverse("subscriptions:subscribe"), {"email": "ann@example.org"})

    assert response.status_code == 200
    assert Subscription.objects.get().newsletter == weekly


def test_the_json_endpoint_accepts_the_same_fields_with_the_same_checks(post, weekly):
    url = reverse("subscriptions:subscribe_api")
    ok = post(url, {"email": "bob@example.org", "newsletters": ["weekly-update"]}, content_type="application/json")
    bad = post(url, {"email": "bob@\nexample.org", "newsletters": ["weekly-update"]}, content_type="application/json")
    honeypot = {"email": "c@example.org", "newsletters": ["weekly-update"], "website": "x"}
    bot = post(url, honeypot, content_type="application/json")

    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert ok["Access-Control-Allow-Origin"] == "*"
    assert bad.status_code == 400 and "line breaks" in bad.json()["errors"]["email"][0]
    assert bot.status_code == 200 and bot.json() == ok.json()
    subscription = Subscription.objects.get()
    assert subscription.subscriber.email == "bob@example.org"
    assert subscription.method == Subscription.Method.EMBED
    assert len(mail.outbox) == 1


def test_the_embedded_form_posts_without_a_csrf_token(weekly):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("subscriptions:subscribe"),
        {"email": "ann@example.org", "newsletters": "weekly-update", "via": "embed", "website": ""},
    )

    assert response.status_code == 200
    assert Subscription.objects.get().method == Subscription.Method.EMBED


def test_the_confirm_page_shows_the_wording_agreed_to_and_records_it_in_its_language(client, newsletter, settings):
    from newsletter.models import Subscriber, Subscription
    from newsletter.tokens import confirm_token

    settings.CONSENT_TEXT, settings.CONSENT_TEXT_CY = "Yes, email me each issue.", "Ydw, anfonwch bob rhifyn ataf."
    for address, prefix, wording in (
        ("english@example.org", "", "Yes, email me each issue."),
        ("cymraeg@example.org", "/cy", "Ydw, anfonwch bob rhifyn ataf."),
    ):
        subscriber = Subscriber.objects.create(email=address)
        Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, consent_text="(asked)")
        url = f"{prefix}/subscribe/confirm/{confirm_token(subscriber.pk, [newsletter.pk])}/"
        page = client.get(url).content.decode()
        assert f"<q>{wording}</q>" in page
        assert client.post(url).status_code == 200
        subscription = Subscription.objects.get(subscriber=subscriber)
        assert subscription.status == Subscription.Status.ACTIVE and subscription.consent_text == wording
