"""Where mail comes from and goes back to: the sender's domain, the bounce and List-Unsubscribe
mailboxes, and VERP envelope senders (one per delivery, signed so nobody can forge a bounce)."""

import hashlib
import hmac
import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes

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


class VerpAddresses:
    """verp_address(delivery_id, newsletter) for one newsletter, byte for byte, for a send's hot loop (issue 17):
    the bounce address and salted_hmac's derived key worked out once, so each address is one HMAC."""

    def __init__(self, newsletter):
        self.local, _, self.domain = bounce_address(newsletter).partition("@")
        self.key = hashlib.sha1(b"newsletter.verp" + force_bytes(settings.SECRET_KEY)).digest()

    def __call__(self, delivery_id):
        signature = hmac.new(self.key, b"%d" % delivery_id, hashlib.sha1).hexdigest()[:10]
        return f"{self.local}+{delivery_id}.{signature}@{self.domain}"


VERP_RE = re.compile(r"\+(\d+)\.([0-9a-f]{10})@", re.IGNORECASE)


def parse_verp(address):
    """The delivery id in a VERP address, or None when it is not one of ours (or the signature is wrong)."""
    match = VERP_RE.search(address or "")
    if not match or not constant_time_compare(match.group(2).lower(), _signature(match.group(1))):
        return None
    return int(match.group(1))


def _contribution_base(newsletter=None):
    """(local part, domain or None for any) of the contribution mailbox: CONTRIBUTIONS_ADDRESS, else contribute@."""
    configured = canonical_address(settings.CONTRIBUTIONS_ADDRESS)
    if configured and "@" in configured:
        local, _, domain = configured.rpartition("@")
        return local.split("+", 1)[0], domain
    return "contribute", _sender_domain(newsletter) if newsletter is not None else None


def contribution_address(newsletter):
    """Where colleagues mail items for this newsletter's inbox: contribute+<slug>@<domain>."""
    local, domain = _contribution_base(newsletter)
    return f"{local}+{newsletter.slug}@{domain}"


def contribution_slug(addresses):
    """The newsletter slug named by the first contribution address among these (To, Delivered-To…), or None."""
    local, domain = _contribution_base()
    for address in addresses:
        mailbox_part, _, at_domain = canonical_address(address).rpartition("@")
        base, plus, slug = mailbox_part.partition("+")
        if plus and base == local and slug and (domain is None or at_domain == domain):
            return slug
    return None
