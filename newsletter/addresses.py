"""Email addresses and one-line text from outside: the one normaliser, used at every boundary.

Forms, the JSON endpoint, CSV imports, bounces, provider webhooks and the admin all store and
match an address in one form: trimmed, its domain in ASCII (IDNA), lower case, so "Ann@Bücher.de"
and "ann@xn--bcher-kva.de" are one subscriber. A leaf: it imports nothing of the app.
"""

import contextlib
import hashlib
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext

MAX_ADDRESS_LENGTH = 254
MAX_NAME_LENGTH = 200
# Line breaks (header injection) and other control characters, in any field.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


class InvalidInput(ValueError):
    """Input we refuse, with a message meant for the person who typed it."""


# Addresses and text ---------------------------------------------------------------


def _ascii_domain(domain):
    """The domain in ASCII (IDNA: "Bücher.example" → "xn--bcher-kva.example"); UnicodeError when it is not one."""
    return domain.encode("idna").decode("ascii")


def canonical_address(raw):
    """The one rule: trimmed, the domain in ASCII (IDNA), all lower case. Never raises.

    Used as is where an address comes from a system (a bounce, a provider's webhook, a stored
    row); `normalise_address` checks what people type, then applies this same rule.
    """
    value = (raw or "").strip()
    local, at, domain = value.rpartition("@")
    if at:
        # Not a valid domain: left as it is, lower-cased (it then matches nothing stored).
        with contextlib.suppress(UnicodeError):
            domain = _ascii_domain(domain)
        value = f"{local}@{domain}"
    return value.lower()


def email_hash(address):
    """The suppression list keeps this, never the address itself."""
    return hashlib.sha256(canonical_address(address).encode("utf-8")).hexdigest()


def normalise_address(raw):
    """The stored form of an address a person typed, or InvalidInput saying what is wrong with it."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(gettext("Enter an email address."))
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(gettext("An email address cannot contain line breaks or control characters."))
    if len(value) > MAX_ADDRESS_LENGTH:
        raise InvalidInput(_too_long())
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput(gettext("Enter a complete email address, like name@example.org."))
    if not local.isascii():
        raise InvalidInput(gettext("Addresses with accented or non-Latin letters before the @ are not supported."))
    try:
        _ascii_domain(domain)
    except UnicodeError as exc:
        raise InvalidInput(gettext("The part after the @ is not a valid domain name.")) from exc
    address = canonical_address(value)
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidInput(_too_long())
    try:
        validate_email(address)
    except ValidationError as exc:
        raise InvalidInput(gettext("Enter a valid email address, like name@example.org.")) from exc
    return address


def display_address(address):
    """The address as people write it: an internationalised domain shown in its own letters."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


def _too_long():
    return gettext("That address is too long: an email address has at most %(max)d characters.") % {
        "max": MAX_ADDRESS_LENGTH
    }


def clean_line(value, label=None, max_length=MAX_NAME_LENGTH):
    """One line of free text (a name): no line breaks or control characters, not too long."""
    value = (value or "").strip()
    label = label or gettext("Name")
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            gettext("%(label)s must be on one line, without line breaks or control characters.") % {"label": label}
        )
    if len(value) > max_length:
        raise InvalidInput(
            gettext("%(label)s is too long: at most %(max)d characters.") % {"label": label, "max": max_length}
        )
    return value
