"""The signed tokens in emailed links (newsletter/tokens.py): each reads back what it was made from; an
altered, foreign or expired token, or one made for another purpose, is refused with BadToken."""

import time

import pytest
from django.core import signing
from django.test import override_settings

from newsletter import tokens

DAY = 24 * 3600

MAKE = {
    "confirm": lambda: tokens.confirm_token(7, [3, 2], "Ann Smith"),
    "preferences": lambda: tokens.preferences_token(7),
    "unsubscribe": lambda: tokens.unsubscribe_token(7, 3),
}
READ = {
    "confirm": tokens.read_confirm_token,
    "preferences": tokens.read_preferences_token,
    "unsubscribe": tokens.read_unsubscribe_token,
}


def made_ago(monkeypatch, seconds, make):
    """A token made `seconds` ago (Django's signer stamps tokens with time.time())."""
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - seconds)
    try:
        return make()
    finally:
        monkeypatch.undo()


# Round trips --------------------------------------------------------------------------


def test_a_confirm_token_gives_back_the_subscriber_the_newsletters_and_the_name():
    assert tokens.read_confirm_token(tokens.confirm_token(7, [3, 2], "Ann Smith")) == (7, [2, 3], "Ann Smith")


def test_a_confirm_token_without_a_name_gives_back_an_empty_name():
    assert tokens.read_confirm_token(tokens.confirm_token(7, [3])) == (7, [3], "")


def test_a_preferences_token_gives_back_the_subscriber():
    assert tokens.read_preferences_token(tokens.preferences_token(7)) == 7


def test_an_unsubscribe_token_gives_back_the_subscriber_and_the_newsletter():
    assert tokens.read_unsubscribe_token(tokens.unsubscribe_token(7, 3)) == (7, 3)


def test_the_urls_are_absolute_and_carry_a_token_that_reads_back(settings):
    settings.SITE_URL = "https://news.example.org"

    confirm = tokens.confirm_url(7, [3])
    preferences = tokens.preferences_url(7)
    unsubscribe = tokens.unsubscribe_url(7, 3)

    assert confirm.startswith("https://news.example.org/subscribe/confirm/")
    assert preferences.startswith("https://news.example.org/preferences/")
    assert unsubscribe.startswith("https://news.example.org/unsubscribe/")

    def token(url):
        return url.rstrip("/").rsplit("/", 1)[1]

    assert tokens.read_confirm_token(token(confirm)) == (7, [3], "")
    assert tokens.read_preferences_token(token(preferences)) == 7
    assert tokens.read_unsubscribe_token(token(unsubscribe)) == (7, 3)


# Refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", MAKE)
def test_a_token_with_one_character_changed_is_refused(purpose):
    payload, timestamp, signature = MAKE[purpose]().split(":")
    for part in range(3):  # the payload, the time it was made, the signature
        parts = [payload, timestamp, signature]
        middle = len(parts[part]) // 2
        parts[part] = parts[part][:middle] + ("A" if parts[part][middle] != "A" else "B") + parts[part][middle + 1 :]
        with pytest.raises(tokens.BadToken, match="not valid"):
            READ[purpose](":".join(parts))


@pytest.mark.parametrize("purpose", MAKE)
def test_a_token_cut_short_is_refused(purpose):
    token = MAKE[purpose]()

    with pytest.raises(tokens.BadToken, match="copied incompletely"):
        READ[purpose](token[:-5])


def test_another_subscribers_payload_under_a_valid_signature_is_refused():
    ann, bob = tokens.preferences_token(1), tokens.preferences_token(2)
    forged = bob.split(":", 1)[0] + ":" + ann.split(":", 1)[1]

    with pytest.raises(tokens.BadToken):
        tokens.read_preferences_token(forged)


@pytest.mark.parametrize("text", ["", "abc", "abc:def", "a:b:c", "../../etc/passwd"])
def test_text_that_is_not_a_token_is_refused(text):
    for read in READ.values():
        with pytest.raises(tokens.BadToken):
            read(text)


@pytest.mark.parametrize("purpose", MAKE)
def test_a_token_signed_with_another_secret_key_is_refused(purpose):
    with override_settings(SECRET_KEY="another-site-entirely-" + "x" * 40):
        token = MAKE[purpose]()

    with pytest.raises(tokens.BadToken):
        READ[purpose](token)


@pytest.mark.parametrize(("made_for", "read_as"), [(made, read) for made in MAKE for read in READ if made != read])
def test_a_token_for_one_purpose_is_refused_for_another(made_for, read_as):
    token = MAKE[made_for]()

    with pytest.raises(tokens.BadToken):
        READ[read_as](token)


# Expiry -------------------------------------------------------------------------------


def test_a_confirm_token_works_for_seven_days_and_not_after(monkeypatch):
    assert tokens.CONFIRM_MAX_AGE.days == 7
    six_days = made_ago(monkeypatch, 6 * DAY, lambda: tokens.confirm_token(7, [3]))
    eight_days = made_ago(monkeypatch, 8 * DAY, lambda: tokens.confirm_token(7, [3]))

    assert tokens.read_confirm_token(six_days) == (7, [3], "")
    with pytest.raises(tokens.BadToken, match="expired"):
        tokens.read_confirm_token(eight_days)


@pytest.mark.parametrize("purpose", ["preferences", "unsubscribe"])
def test_preferences_and_unsubscribe_tokens_never_expire(monkeypatch, purpose):
    five_years = made_ago(monkeypatch, 5 * 365 * DAY, MAKE[purpose])

    assert READ[purpose](five_years) == READ[purpose](MAKE[purpose]())
