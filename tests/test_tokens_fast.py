"""Tokens made with the HMAC key derived once (newsletter.tokens._dumps, issue 17) are Django's signing.dumps
byte for byte, so every link already mailed keeps working and signing.loads reads every new one."""

from unittest import mock

from django.core import signing
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import tokens

ids = st.integers(min_value=1, max_value=2**63 - 1)
values = st.one_of(
    ids,
    st.lists(ids, max_size=4),
    st.fixed_dictionaries({"s": ids, "n": st.lists(ids, max_size=5)}, optional={"m": st.text(max_size=40)}),
    st.lists(st.just(1111111111), min_size=3, max_size=30),  # long and repetitive: zlib makes it shorter
)


@settings(max_examples=300, deadline=None)  # (a shared, loaded machine)
@given(purpose=st.sampled_from(["unsubscribe", "preferences", "confirm"]), value=values, now=st.integers(0, 2**33))
def test_the_fast_token_is_signing_dumps(purpose, value, now):
    with mock.patch("time.time", return_value=now + 0.5):
        expected = signing.dumps(value, salt=f"newsletter.{purpose}", compress=True)
    assert tokens._dumps(purpose, value, now=now + 0.5) == expected
    assert signing.loads(expected, salt=f"newsletter.{purpose}") == value


def test_the_tokens_mailed_read_back_and_follow_a_new_secret_key(settings):
    assert tokens.read_unsubscribe_token(tokens.unsubscribe_token(41, 7)) == (41, 7)
    assert tokens.read_preferences_token(tokens.preferences_token(41)) == 41
    before = tokens.preferences_token(41)
    settings.SECRET_KEY = "another secret key of enough length for the test " * 2
    assert tokens.preferences_token(41) != before
    assert tokens.read_preferences_token(tokens.preferences_token(41)) == 41
