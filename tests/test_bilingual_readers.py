"""A reader's language (Subscriber.language): chosen on the subscribe form (offered first from the page or the
browser), in the confirmation and welcome mail and the pages their links open, changeable in preferences."""

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import tokens
from newsletter.models import Subscriber, Subscription

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(path, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, **kwargs)

    return send


def chosen(page, parse_html):
    checked = [i for i in parse_html(page).find_all("input", name="language") if "checked" in i.attrs]
    return [i.attrs["value"] for i in checked]


def test_the_subscribe_form_offers_the_browsers_language_first(client, council, parse_html):
    assert chosen(client.get("/subscribe/", HTTP_ACCEPT_LANGUAGE="cy,en;q=0.5"), parse_html) == ["cy"]
    assert chosen(client.get("/subscribe/", HTTP_ACCEPT_LANGUAGE="en-GB"), parse_html) == ["en-gb"]
    assert chosen(client.get("/cy/subscribe/", HTTP_ACCEPT_LANGUAGE="en-GB"), parse_html) == ["cy"]  # the page's


def test_a_welsh_reader_gets_welsh_mail_whose_links_open_welsh_pages(post, council, mail_links, parse_html):
    post("/subscribe/", {"email": "ann@example.org", "newsletters": ["council-news"], "language": "cy"})

    ann = Subscriber.objects.get()
    assert ann.language == "cy"
    confirmation = mail.outbox[0]
    assert parse_html(confirmation.alternatives[0][0]).find("html").attrs["lang"] == "cy"
    confirm = next(link for link in mail_links(confirmation) if "/confirm/" in link)
    assert confirm.startswith("/cy/subscribe/confirm/")

    post(confirm)

    assert Subscription.objects.get().status == Subscription.Status.ACTIVE
    welcome = mail.outbox[1]
    assert "Diolch am ymuno." in welcome.body and "Thanks for joining" not in welcome.body
    links = mail_links(welcome)
    assert next(link for link in links if "/preferences/" in link).startswith("/cy/")
    assert next(link for link in links if "/unsubscribe/" in link).startswith("/cy/")


def test_an_existing_readers_language_changes_only_when_they_confirm(post, council, make_newsletter, mail_links):
    other = make_newsletter("Other", slug="other")
    ann = Subscriber.objects.create(email="ann@example.org", language="en-gb")
    Subscription.objects.create(subscriber=ann, newsletter=other, status=Subscription.Status.ACTIVE)

    post("/subscribe/", {"email": "ann@example.org", "newsletters": ["council-news"], "language": "cy"})

    ann.refresh_from_db()
    assert ann.language == "en-gb"  # a stranger may have sent it: nothing stored changes yet
    confirm = next(link for link in mail_links(mail.outbox[0]) if "/confirm/" in link)
    assert confirm.startswith("/cy/")
    post(confirm)
    ann.refresh_from_db()
    assert ann.language == "cy"


def test_preferences_change_the_language(post, client, council, parse_html):
    ann = Subscriber.objects.create(email="ann@example.org")
    Subscription.objects.create(subscriber=ann, newsletter=council, status=Subscription.Status.ACTIVE)
    path = tokens.preferences_url(ann.pk).removeprefix(tokens.absolute(""))

    assert chosen(client.get(path), parse_html) == ["en-gb"]  # never chosen: the newsletter's own
    post(path, {"name": "Ann", "newsletters": ["council-news"], "language": "cy"})

    ann.refresh_from_db()
    assert ann.language == "cy"
    assert chosen(client.get(path), parse_html) == ["cy"]


def test_an_unknown_language_is_refused_with_its_name(post, council):
    response = post("/subscribe/", {"email": "ann@example.org", "newsletters": ["council-news"], "language": "xx"})

    assert response.status_code == 400
    assert "xx is not one of the available choices" in response.text
    assert not Subscriber.objects.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(language=st.text(max_size=40))
def test_any_language_sent_is_stored_as_one_of_the_sites_or_refused_whole(client, council, fresh_cache, language):
    fresh_cache.clear()  # the rate limits count every example
    Subscriber.objects.all().delete()

    response = client.post(
        "/api/subscribe/",
        {"email": "ann@example.org", "newsletters": ["council-news"], "language": language},
        content_type="application/json",
    )

    if response.status_code == 200:
        assert Subscriber.objects.get().language in ("", "en-gb", "cy")
        assert language in ("", "en-gb", "cy")
    else:
        assert response.status_code == 400 and "language" in response.json()["errors"]
        assert not Subscriber.objects.exists()
