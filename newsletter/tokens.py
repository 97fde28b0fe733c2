"""Signed tokens for links in emails (django.core.signing), and the absolute URLs that carry them.

- confirm: subscriber + newsletters, valid CONFIRM_MAX_AGE (7 days);
- preferences: one subscriber, never expires;
- unsubscribe: one subscriber and one newsletter, never expires (RFC 8058 one-click);
- reader: one subscriber and one issue, the `?token=` of the web links in that subscriber's copy of the issue;
  it opens a subscribers-only issue's page (newsletter/archive/access.py), valid READER_LINK_MAX_AGE_DAYS.

Tokens carry primary keys only, never the address; a confirm token may also carry the name
asked for with the request (signed, not encrypted), applied only when the person confirms.
A tampered token fails the signature check; an expired one fails the age check: both raise BadToken.
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import zlib

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext

CONFIRM_MAX_AGE = datetime.timedelta(days=7)


class BadToken(Exception):
    """The link was altered, has expired, or is not a link of ours."""


def _dumps(purpose, value, now=None):
    """signing.dumps(value, salt="newsletter.<purpose>", compress=True), byte for byte, with the HMAC key
    derived once per purpose (issue 17: a send makes two tokens per recipient; Django derives the key and
    builds two signer objects for each). signing.loads reads it; tests/test_tokens_fast.py compares the two."""
    data = json.dumps(value, separators=(",", ":")).encode("latin-1")
    compressed = zlib.compress(data) if len(data) > 9 else data  # (never shorter below 10 bytes)
    body = "." + _b64(compressed) if len(compressed) < len(data) - 1 else _b64(data)
    signed = f"{body}:{signing.b62_encode(int(time.time() if now is None else now))}"
    mac = _signing_mac(purpose, settings.SECRET_KEY).copy()
    mac.update(signed.encode())
    return f"{signed}:{_b64(mac.digest())}"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_signing_macs = {}


def _signing_mac(purpose, secret):
    """Django's salted_hmac key for Signer(salt="newsletter.<purpose>"): sha256(salt + "signer" + secret)."""
    mac = _signing_macs.get((purpose, secret))
    if mac is None:
        key = hashlib.sha256(f"newsletter.{purpose}signer".encode() + secret.encode()).digest()
        mac = _signing_macs[(purpose, secret)] = hmac.new(key, digestmod=hashlib.sha256)
    return mac


def _loads(purpose, token, max_age=None):
    try:
        return signing.loads(token, salt=f"newsletter.{purpose}", max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadToken(gettext("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise BadToken(gettext("This link is not valid. It may have been copied incompletely.")) from exc


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


# Reader tokens: "<subscriber id, hex>.<issued, base 36>.<HMAC-SHA256 of issue id and both, 16 bytes, base64url>".
# Made once per recipient in the send's hot loop (mail/message.py), so one HMAC with a key derived once per issue,
# no JSON or compression: ReaderTokens(issue_id)(subscriber_id). READER_TOKEN_LENGTH characters (ids below 16**10),
# all of them quoted-printable literals, so the mail fills them into bytes encoded once (mail/message.py).
READER_TOKEN_LENGTH = 41
_READER_SALT = b"newsletter.reader:"
_READER_TOKEN = re.compile(r"([0-9a-f]{1,12})\.([0-9a-z]{1,8})\.([A-Za-z0-9_-]{22})")


def _reader_key(secret):
    return hashlib.sha256(_READER_SALT + str(secret).encode()).digest()


def _reader_mac(key, issue_id, payload):
    digest = hmac.new(key, f"{issue_id}.{payload}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _base36(number):
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


class ReaderTokens:
    """Reader tokens for one issue, issued now: `tokens(subscriber_id)` is one HMAC."""

    def __init__(self, issue_id):
        self.issue_id = issue_id
        self.stamp = _base36(int(time.time())).rjust(7, "0")
        self.key = _reader_key(settings.SECRET_KEY)

    def __call__(self, subscriber_id):
        payload = f"{subscriber_id:010x}.{self.stamp}"
        return f"{payload}.{_reader_mac(self.key, self.issue_id, payload)}"


def reader_token(subscriber_id, issue_id):
    return ReaderTokens(issue_id)(subscriber_id)


def read_reader_token(token, issue_id):
    """The subscriber id a reader token for this issue was made for; raises BadToken when it was altered, made for
    another issue, made with a secret no longer in use, or is older than READER_LINK_MAX_AGE_DAYS."""
    match = _READER_TOKEN.fullmatch(token or "")
    if not match:
        raise BadToken("This link is not valid.")
    subscriber, stamp, mac = match.groups()
    payload = f"{subscriber}.{stamp}"
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(mac, _reader_mac(_reader_key(s), issue_id, payload)) for s in secrets):
        raise BadToken("This link is not valid.")
    age = time.time() - int(stamp, 36)
    if not -300 <= age <= settings.READER_LINK_MAX_AGE_DAYS * 86400:
        raise BadToken("This link has expired.")
    return int(subscriber, 16)


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber_id, newsletter_ids, name=""):
    return absolute(reverse("subscriptions:confirm", args=[confirm_token(subscriber_id, newsletter_ids, name)]))


def preferences_url(subscriber_id):
    return absolute(reverse("subscriptions:preferences", args=[preferences_token(subscriber_id)]))


def unsubscribe_url(subscriber_id, newsletter_id):
    return absolute(reverse("subscriptions:unsubscribe", args=[unsubscribe_token(subscriber_id, newsletter_id)]))
