"""Editors manage subscribers in the admin: add one person, import, export, unsubscribe, resend, erase."""

import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from newsletter.models import Subscriber, Subscription, Suppression

pytestmark = pytest.mark.usefixtures("fresh_cache")
CHANGELIST = "admin:newsletter_subscriber_changelist"


@pytest.fixture
def editor(client, django_user_model):
    """A staff user in the editors' group, as create_editor makes, logged in without hashing a password."""
    from newsletter.management.commands.create_editor import editors_group

    user = django_user_model.objects.create(username="ed", is_staff=True)
    user.groups.add(editors_group())
    client.force_login(user)
    return client


@pytest.fixture
def post(editor, django_capture_on_commit_callbacks):
    def send(path, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return editor.post(path, data or {}, **kwargs)

    return send


def person(email, newsletter, status=Subscription.Status.ACTIVE):
    subscriber = Subscriber.objects.create(email=email)
    Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=status)
    return subscriber


def test_an_editor_adds_a_colleague_who_agreed_and_they_are_active_at_once(post, newsletter):
    response = post(
        reverse("admin:newsletter_subscriber_add"),
        {"email": "Colleague@Example.org", "name": "Col", "newsletters": [newsletter.pk], "consent_given": "on"},
    )

    assert response.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.subscriber.email == "colleague@example.org"
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.method == Subscription.Method.ADMIN
    assert "recorded by ed" in subscription.consent_text
    assert not mail.outbox


def test_without_consent_the_colleague_is_pending_and_asked_to_confirm(post, newsletter):
    post(reverse("admin:newsletter_subscriber_add"), {"email": "col@example.org", "newsletters": [newsletter.pk]})

    assert Subscription.objects.get().status == Subscription.Status.PENDING
    assert [m.to for m in mail.outbox] == [["col@example.org"]]


def test_an_editor_cannot_reactivate_someone_who_unsubscribed(post, newsletter):
    person("gone@example.org", newsletter, Subscription.Status.UNSUBSCRIBED)
    Suppression.add("gone@example.org", Suppression.Reason.UNSUBSCRIBED)

    post(
        reverse("admin:newsletter_subscriber_add"),
        {"email": "gone@example.org", "newsletters": [newsletter.pk], "consent_given": "on"},
    )

    assert Subscription.objects.get().status == Subscription.Status.PENDING
    assert len(mail.outbox) == 1  # only their own confirmation makes it active


def test_a_header_injection_in_the_add_form_is_refused(post, newsletter):
    response = post(
        reverse("admin:newsletter_subscriber_add"),
        {"email": "a@example.org\nBcc: b@example.org", "newsletters": [newsletter.pk], "consent_given": "on"},
    )

    assert response.status_code == 200
    assert "line breaks" in response.text
    assert not Subscriber.objects.exists()


def test_the_list_filters_by_newsletter_and_status_together_and_counts_each_status(editor, newsletter, make_newsletter):
    events = make_newsletter("Events")
    ann = person("ann@example.org", newsletter)
    Subscription.objects.create(subscriber=ann, newsletter=events, status=Subscription.Status.PENDING)
    person("bob@example.org", events)

    response = editor.get(reverse(CHANGELIST), {"newsletter": newsletter.pk, "status": "pending"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []  # Ann is pending in Events, not in this newsletter

    response = editor.get(reverse(CHANGELIST), {"newsletter": events.pk})
    assert {s.email for s in response.context["cl"].result_list} == {"ann@example.org", "bob@example.org"}
    assert "<strong>1</strong> active" in response.text and "<strong>1</strong> pending confirmation" in response.text


def test_unsubscribe_action_leaves_the_filtered_newsletter_only(post, newsletter, make_newsletter):
    events = make_newsletter("Events")
    ann = person("ann@example.org", newsletter)
    Subscription.objects.create(subscriber=ann, newsletter=events, status=Subscription.Status.ACTIVE)

    post(
        reverse(CHANGELIST) + f"?newsletter={events.pk}",
        {"action": "unsubscribe", ACTION_CHECKBOX_NAME: [ann.pk]},
    )

    statuses = dict(Subscription.objects.values_list("newsletter__slug", "status"))
    assert statuses == {"weekly-update": "active", "events": "unsubscribed"}


def test_resend_confirmation_mails_pending_subscribers_only(post, newsletter):
    pending = person("pending@example.org", newsletter, Subscription.Status.PENDING)
    active = person("active@example.org", newsletter)

    post(reverse(CHANGELIST), {"action": "resend_confirmation", ACTION_CHECKBOX_NAME: [pending.pk, active.pk]})

    assert [m.to for m in mail.outbox] == [["pending@example.org"]]


def test_erase_asks_first_then_deletes_and_suppresses(post, newsletter):
    ann = person("ann@example.org", newsletter)
    data = {"action": "erase", ACTION_CHECKBOX_NAME: [ann.pk]}

    first = post(reverse(CHANGELIST), data)
    assert first.status_code == 200 and "Erase personal data?" in first.text
    assert Subscriber.objects.exists()

    post(reverse(CHANGELIST), {**data, "confirm_erase": "yes"})
    assert not Subscriber.objects.exists()
    assert Suppression.is_suppressed("ann@example.org")


def test_the_import_page_explains_rejected_rows(post, newsletter):
    csv = b"email,name,newsletters,consent\nann@example.org,Ann,weekly-update,yes\nbad,,weekly-update,yes\n"
    response = post(
        reverse("admin:newsletter_subscriber_import"), {"file": SimpleUploadedFile("list.csv", csv, "text/csv")}
    )

    assert response.status_code == 200
    assert "Rejected rows (1)" in response.text
    assert "<td>3</td><td>bad</td>" in response.text
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_export_downloads_the_filtered_list_as_csv(editor, newsletter):
    person("ann@example.org", newsletter)
    person("pending@example.org", newsletter, Subscription.Status.PENDING)

    response = editor.get(
        reverse("admin:newsletter_subscriber_export"), {"newsletter": newsletter.pk, "status": "active"}
    )

    assert response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2 and lines[1].startswith("ann@example.org,,weekly-update,yes,active")


def test_the_newsletter_page_shows_a_subscribe_form_to_embed(editor, newsletter, parse_html):
    response = editor.get(reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]))

    snippet = parse_html(response).find("textarea", class_="embed-snippet").text
    form = parse_html(snippet).find("form")
    assert form.attrs["action"] == "http://127.0.0.1:8000/subscribe/"
    assert form.find("input", name="newsletters").attrs["value"] == "weekly-update"
    assert form.find("input", name="website") is not None


def test_the_embedded_snippet_really_subscribes(
    client, newsletter, editor, parse_html, django_capture_on_commit_callbacks
):
    response = editor.get(reverse("admin:newsletter_newsletter_change", args=[newsletter.pk]))
    form = parse_html(parse_html(response).find("textarea", class_="embed-snippet").text).find("form")
    data = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input")}
    data["email"] = "reader@elsewhere.example"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(form.attrs["action"].removeprefix("http://127.0.0.1:8000"), data)

    assert Subscription.objects.get().method == Subscription.Method.EMBED
    assert len(mail.outbox) == 1


def test_an_import_file_with_a_wrong_header_is_refused_with_a_message(post, newsletter):
    upload = SimpleUploadedFile("x.csv", io.BytesIO(b"mail\nann@example.org\n").read(), "text/csv")
    response = post(reverse("admin:newsletter_subscriber_import"), {"file": upload})

    assert "missing: email, name, newsletters, consent" in response.text
    assert not Subscriber.objects.exists()
