"""Mail that comes back: reading a bounce mailbox (Maildir or IMAP) and saying what each message is. The same
readers (`read_maildir`, `read_imap`) read the contribution mailbox (newsletter.inbox.mailin).

It decides nothing about subscribers: `classify_message` names the kind (hard or soft bounce,
complaint, mailed unsubscribe) and the delivery; newsletter.subscribers.bounces applies the rules.
"""

import contextlib
import email
import email.policy
import imaplib
import mailbox
import re
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from django.conf import settings

from newsletter.addresses import canonical_address
from newsletter.mail.addresses import parse_verp
from newsletter.models import Delivery


def classify_message(message):
    """(kind, delivery id or None, reason) for one incoming message; kind is hard/soft/complaint/unsubscribe/None."""
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type") or "").lower()
    recipients = " ".join(
        addr for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Delivered-To", []))
    )
    recipients += " " + " ".join(message.get_all("X-Original-To", []))
    delivery_id = parse_verp(recipients)
    if content_type == "multipart/report" and report_type == "feedback-report":
        return Delivery.Bounce.COMPLAINT, delivery_id or _delivery_from_original(message), "complaint"
    if content_type == "multipart/report" and report_type == "delivery-status":
        status, action, diagnostic = _dsn_fields(message)
        if action == "delayed" or status.startswith("4"):
            kind = Delivery.Bounce.SOFT
        elif action == "failed" or status.startswith("5"):
            kind = Delivery.Bounce.HARD
        else:
            return None, delivery_id, ""  # delivered/relayed/expanded: nothing to do
        return kind, delivery_id or _delivery_from_original(message), f"{status} {diagnostic}".strip()
    to_addresses = [canonical_address(addr) for _, addr in getaddresses(message.get_all("To", []))]
    if _is_unsubscribe_address(to_addresses):
        return "unsubscribe", None, ""
    if delivery_id:  # a non-standard bounce to a VERP address: treat as hard only when it says so
        body = _text_of(message)[:5000]
        if re.search(r"\b5\.\d{1,3}\.\d{1,3}\b|user unknown|no such user|does not exist", body, re.IGNORECASE):
            return Delivery.Bounce.HARD, delivery_id, "non-standard bounce"
        return Delivery.Bounce.SOFT, delivery_id, "non-standard bounce"
    return None, None, ""


def _is_unsubscribe_address(addresses):
    configured = settings.DELIVERY_UNSUBSCRIBE_ADDRESS
    wanted = {canonical_address(configured)} if configured else set()
    return any(a in wanted or a.startswith("unsubscribe@") for a in addresses)


def _dsn_fields(message):
    status, action, diagnostic = "", "", ""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else [email.message_from_string(str(payload))]
        for block in blocks:
            status = status or (block.get("Status") or "").strip()
            action = action or (block.get("Action") or "").strip().lower()
            diagnostic = diagnostic or " ".join((block.get("Diagnostic-Code") or "").split())
    return status, action, diagnostic


def _delivery_from_original(message):
    """When the report did not come to a VERP address: the Message-ID of the returned original."""
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) else email.message_from_string(str(payload))
            message_id = (original.get("Message-ID") or "").strip()
            if message_id:
                found = Delivery.objects.filter(message_id=message_id).values_list("pk", flat=True).first()
                if found:
                    return found
    return None


def _text_of(message):
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                parts.append(part.get_content())
            except (LookupError, KeyError):
                parts.append(str(part.get_payload()))
    return "\n".join(parts)


def read_maildir(path, handle, max_bytes=None, too_large=None):
    """Hand every new message in a Maildir to `handle`, then move it to cur/ (so a second run skips it).

    With max_bytes, a larger message is not parsed: `too_large(size)` is called instead (it is marked read too).
    """
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in list(box.iterkeys()):
        msg = box.get_message(key)
        if "S" in msg.get_flags():
            continue
        raw = box.get_bytes(key)
        if max_bytes is not None and len(raw) > max_bytes:
            too_large(len(raw))
        else:
            handle(email.message_from_bytes(raw, policy=email.policy.default))
        msg.set_subdir("cur")
        msg.add_flag("S")
        box[key] = msg


def read_imap(url, handle, max_bytes=None, too_large=None):
    """Hand unseen messages from imap[s]://user:password@host[:port]/MAILBOX to `handle`, marking them seen.

    With max_bytes, a larger message (by the server's RFC822.SIZE) is not fetched: `too_large(size)` is called.
    """
    parts = urlsplit(url)
    cls = imaplib.IMAP4_SSL if parts.scheme == "imaps" else imaplib.IMAP4
    client = cls(parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143))
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        client.select(unquote(parts.path.lstrip("/")) or "INBOX")
        _, data = client.search(None, "UNSEEN")
        for number in data[0].split():
            if max_bytes is not None:
                _, sized = client.fetch(number, "(RFC822.SIZE)")
                size = re.search(rb"RFC822\.SIZE (\d+)", sized[0] if isinstance(sized[0], bytes) else b"")
                if size and int(size.group(1)) > max_bytes:
                    too_large(int(size.group(1)))
                    client.store(number, "+FLAGS", "\\Seen")
                    continue
            _, fetched = client.fetch(number, "(RFC822)")
            raw = fetched[0][1]
            if max_bytes is not None and len(raw) > max_bytes:
                too_large(len(raw))
            else:
                handle(email.message_from_bytes(raw, policy=email.policy.default))
            client.store(number, "+FLAGS", "\\Seen")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
