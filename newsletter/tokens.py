"""Signed tokens for links in emails (django.core.signing), and the absolute URLs that carry them.

- confirm: subscriber + newsletters, valid CONFIRM_MAX_AGE (7 days);
- preferences: one subscriber, never expires;
- unsubscribe: one subscriber and one newsletter, never expires (RFC 8058 one-click).

Tokens carry primary keys only, never the address; a confirm token may also carry the name
asked for with the request (signed, not encrypted), applied only when the person confirms.
A tampered token fails the signature check; an expired one fails the age check: both raise BadToken.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_MAX_AGE = datetime.timedelta(days=7)


class BadToken(Exception):
    """The link was altered, has expired, or is not a link of ours."""


def _dumps(purpose, value):
    return signing.dumps(value, salt=f"newsletter.{purpose}", compress=True)


def _loads(purpose, token, max_age=None):
    try:
        return signing.loads(token, salt=f"newsletter.{purpose}", max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadToken("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise BadToken("This link is not valid. It may have been copied incompletely.") from exc


def confirm_token(subscriber_id, newsletter_ids, name=""):
    value = {"s": subscriber_id, "n": sorted(newsletter_ids)}
    if name:
        value["m"] = name
    return _dumps("confirm", value)


def read_confirm_token(token):
    """(subscriber id, [newsletter ids], name to set on confirming or ""); raises BadToken."""
    value = _loads("confirm", token, max_age=CONFIRM_MAX_AGE)
    return value["s"], value["n"], value.get("m", "")


def preferences_token(subscriber_id):
    return _dumps("preferences", subscriber_id)


def read_preferences_token(token):
    return _loads("preferences", token)


def unsubscribe_token(subscriber_id, newsletter_id):
    return _dumps("unsubscribe", [subscriber_id, newsletter_id])


def read_unsubscribe_token(token):
    """(subscriber id, newsletter id); raises BadToken."""
    subscriber_id, newsletter_id = _loads("unsubscribe", token)
    return subscriber_id, newsletter_id


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber_id, newsletter_ids, name=""):
    return absolute(reverse("subscriptions:confirm", args=[confirm_token(subscriber_id, newsletter_ids, name)]))


def preferences_url(subscriber_id):
    return absolute(reverse("subscriptions:preferences", args=[preferences_token(subscriber_id)]))


def unsubscribe_url(subscriber_id, newsletter_id):
    return absolute(reverse("subscriptions:unsubscribe", args=[unsubscribe_token(subscriber_id, newsletter_id)]))
