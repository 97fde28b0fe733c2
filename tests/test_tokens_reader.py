"""The reader token on an issue's web links (newsletter/tokens.py): it reads back the subscriber it was made for, and
only for its issue; anything else — altered, expired, made with another secret, or any text at all — is BadToken."""

import time

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import tokens

DAY = 24 * 3600


def test_it_reads_back_its_subscriber_for_its_issue_only():
    token = tokens.reader_token(1234, 56)

    assert tokens.read_reader_token(token, 56) == 1234
    with pytest.raises(tokens.BadToken):
        tokens.read_reader_token(token, 57)


def test_one_issues_tokens_are_one_hmac_each_and_differ_by_subscriber():
    make = tokens.ReaderTokens(56)
    assert make(1) != make(2)
    assert tokens.read_reader_token(make(2), 56) == 2
    assert len(make(10**9)) < 50  # short enough for a plain-text line


def test_it_expires_after_the_configured_days(monkeypatch, settings):
    settings.READER_LINK_MAX_AGE_DAYS = 30
    now = time.time()
    monkeypatch.setattr(tokens.time, "time", lambda: now - 31 * DAY)
    old = tokens.reader_token(1, 2)
    monkeypatch.setattr(tokens.time, "time", lambda: now - 29 * DAY)
    recent = tokens.reader_token(1, 2)
    monkeypatch.setattr(tokens.time, "time", lambda: now)

    assert tokens.read_reader_token(recent, 2) == 1
    with pytest.raises(tokens.BadToken, match="expired"):
        tokens.read_reader_token(old, 2)


def test_a_token_from_the_future_is_refused(monkeypatch):
    now = time.time()
    monkeypatch.setattr(tokens.time, "time", lambda: now + DAY)
    ahead = tokens.reader_token(1, 2)
    monkeypatch.setattr(tokens.time, "time", lambda: now)
    with pytest.raises(tokens.BadToken):
        tokens.read_reader_token(ahead, 2)


def test_an_old_secret_in_the_fallbacks_still_opens_and_a_forgotten_one_does_not():
    with override_settings(SECRET_KEY="old secret " * 5):
        token = tokens.reader_token(1, 2)
    with override_settings(SECRET_KEY="new secret " * 5, SECRET_KEY_FALLBACKS=["old secret " * 5]):
        assert tokens.read_reader_token(token, 2) == 1
    with override_settings(SECRET_KEY="new secret " * 5, SECRET_KEY_FALLBACKS=[]), pytest.raises(tokens.BadToken):
        tokens.read_reader_token(token, 2)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.from_regex(r"[0-9a-f]{1,12}\.[0-9a-z]{1,8}\.[A-Za-z0-9_-]{22}", fullmatch=True))
def test_any_other_text_is_bad_token_and_nothing_else(text):
    with pytest.raises(tokens.BadToken):
        tokens.read_reader_token(text, 2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**12 - 1), st.integers(1, 10**9), st.integers(0, 60), st.sampled_from("0aA_-"))
def test_changing_any_one_character_breaks_it(subscriber, issue, position, replacement):
    token = tokens.reader_token(subscriber, issue)
    position %= len(token)
    altered = token[:position] + replacement + token[position + 1 :]
    if altered == token:
        return
    with pytest.raises(tokens.BadToken):
        tokens.read_reader_token(altered, issue)


def test_a_huge_token_is_refused():
    # The pattern is anchored with bounded runs: five million characters are one failed match, not a backtrack.
    with pytest.raises(tokens.BadToken):
        tokens.read_reader_token("0" * 5_000_000, 2)
