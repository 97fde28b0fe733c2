"""Where mail comes from and goes back to: the sender's domain, the bounce and List-Unsubscribe
mailboxes, and VERP envelope senders (one per delivery, signed so nobody can forge a bounce)."""

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from newsletter.addresses import canonical_address


def _sender_domain(newsletter):
    """The sender's domain in ASCII (IDNA, via the one normaliser): an envelope address must not need SMTPUTF8."""
    address = canonical_address(newsletter.sender_email or settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2] or "localhost"


def bounce_address(newsletter):
    """The plain bounce mailbox (DELIVERY_BOUNCE_ADDRESS, or bounces@<sender domain>)."""
    return settings.DELIVERY_BOUNCE_ADDRESS or f"bounces@{_sender_domain(newsletter)}"


def unsubscribe_address(newsletter):
    """The List-Unsubscribe mailto address (DELIVERY_UNSUBSCRIBE_ADDRESS, or unsubscribe@<sender domain>)."""
    return settings.DELIVERY_UNSUBSCRIBE_ADDRESS or f"unsubscribe@{_sender_domain(newsletter)}"


def _signature(delivery_id):
    return salted_hmac("newsletter.verp", str(delivery_id)).hexdigest()[:10]


def verp_address(delivery_id, newsletter):
    local, _, domain = bounce_address(newsletter).partition("@")
    return f"{local}+{delivery_id}.{_signature(delivery_id)}@{domain}"


VERP_RE = re.compile(r"\+(\d+)\.([0-9a-f]{10})@", re.IGNORECASE)


def parse_verp(address):
    """The delivery id in a VERP address, or None when it is not one of ours (or the signature is wrong)."""
    match = VERP_RE.search(address or "")
    if not match or not constant_time_compare(match.group(2).lower(), _signature(match.group(1))):
        return None
    return int(match.group(1))
