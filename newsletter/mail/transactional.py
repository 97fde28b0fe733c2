"""Transactional email: every message is built here from templates/email/<kind>-subject.txt,
<kind>-body.txt and <kind>-body.html, and sent from a Celery task (newsletter.subscribers.tasks).

Issues themselves are built elsewhere (delivery); this module covers mail about a
subscription: the confirmation request and the welcome.
"""

from email.utils import formataddr

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from newsletter import languages, tokens
from newsletter.addresses import display_address
from newsletter.mail import headers as mail_headers
from newsletter.mail.signing import SignedEmail
from newsletter.markup import markdown_to_html
from newsletter.models import Subscriber, Subscription
from newsletter.models.languages import issue_in, reader_language


def render(kind, context):
    """(subject, text, html) for one kind of message; the subject is forced onto one line."""
    subject = " ".join(render_to_string(f"email/{kind}-subject.txt", context).split())
    text = render_to_string(f"email/{kind}-body.txt", context)
    html = render_to_string(f"email/{kind}-body.html", context)
    return subject, text, html


def sender(newsletter=None):
    """The From header: the newsletter's sender (name and address), or DEFAULT_FROM_EMAIL under the site's name."""
    return formataddr(mail_headers.sender(newsletter))


def _message(kind, context, to, newsletter=None, headers=None):
    """One transactional message with the headers issue mail has too (Date, Message-ID), DKIM-signed when set up."""
    subject, text, html = render(kind, context)
    message = SignedEmail(
        subject=subject,
        body=text,
        from_email=sender(newsletter),
        to=[to],
        reply_to=[newsletter.reply_to] if newsletter is not None and newsletter.reply_to else None,
        headers={
            "Date": mail_headers.date_header(),
            "Message-ID": mail_headers.message_id(newsletter),
            "Auto-Submitted": "auto-generated",
            **(headers or {}),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def confirmation_message(subscriber, subscriptions, name=""):
    """Ask the person to confirm the given pending subscriptions, with a link valid for 7 days.

    name, the name asked for with the request, travels only inside the link: the mail greets
    the person by the stored name and never repeats text a stranger may have typed.
    """
    newsletters = [s.newsletter for s in subscriptions]
    context = {
        "subscriber": subscriber,
        "address": display_address(subscriber.email),
        "newsletters": newsletters,
        "confirm_url": tokens.confirm_url(subscriber.pk, [n.pk for n in newsletters], name),
        "renames": bool(name),
        "valid_days": tokens.CONFIRM_MAX_AGE.days,
        "site_url": settings.SITE_URL,
    }
    only = newsletters[0] if len(newsletters) == 1 else None
    return _message("confirm", context, subscriber.email, newsletter=only)


def _latest_url(issue, subscriber_id):
    """The latest issue's address; a subscribers-only one with the new subscriber's reader token, so it opens."""
    if issue is None:
        return ""
    url = tokens.absolute(issue.get_absolute_url())
    return url if issue.opens_by_link else f"{url}?token={tokens.reader_token(subscriber_id, issue.pk)}"


def welcome_message(subscription):
    """Sent once a subscription is confirmed: the newsletter's welcome text and its latest issue."""
    newsletter = subscription.newsletter
    latest = newsletter.issues.published().newest_first().first()
    language = reader_language(newsletter, subscription.subscriber.language)
    welcome = newsletter.welcome_in(language)
    context = {
        "subscriber": subscription.subscriber,
        "newsletter": newsletter,
        "welcome_text": welcome,
        "welcome_html": markdown_to_html(welcome),
        "latest": issue_in(latest, language) if latest else None,
        "latest_url": _latest_url(latest, subscription.subscriber_id),
        "archive_url": tokens.absolute(newsletter.get_absolute_url()),
        "preferences_url": tokens.preferences_url(subscription.subscriber_id),
        "unsubscribe_url": tokens.unsubscribe_url(subscription.subscriber_id, newsletter.pk),
    }
    unsubscribe = context["unsubscribe_url"]
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return _message("welcome", context, subscription.subscriber.email, newsletter=newsletter, headers=headers)


def send_confirmation(subscriber_id, name="", language=""):
    """Mail a confirmation covering every subscription still pending now; False when there is none.

    The throttle's mark (Subscriber.last_confirmation_sent_at) is set by whoever queued or claimed this
    mail (newsletter.subscribers.confirmations), never here: a planned mail's mark must stay its own."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:  # erased meanwhile
        return False
    pending = list(
        subscriber.subscriptions.filter(status=Subscription.Status.PENDING)
        .select_related("newsletter")
        .order_by("newsletter__name")
    )
    if not pending:
        return False
    # In the language chosen with the request (else the subscriber's): its text and its link's page (/cy/…).
    with translation.override(languages.supported(language or subscriber.language)):
        message = confirmation_message(subscriber, pending, name)
    message.send()
    return True


def send_welcome(subscription_id):
    subscription = (
        Subscription.objects.select_related("subscriber", "newsletter")
        .filter(pk=subscription_id, status=Subscription.Status.ACTIVE)
        .first()
    )
    if subscription is None:  # left or erased before the task ran
        return False
    # In the language the subscriber reads this newsletter in (models/languages.py), its links' pages too.
    with translation.override(reader_language(subscription.newsletter, subscription.subscriber.language)):
        message = welcome_message(subscription)
    message.send()
    return True
