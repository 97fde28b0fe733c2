"""Mail into the inbox: messages to contribute+<newsletter slug>@… become contributions.

The mailbox is read with the bounce reader (newsletter.mail.inbound: Maildir or IMAP, each message once).
The subject becomes the title, the text (sanitised) the summary, the first link the item's link; the sender
is recorded. Mail from the newsletter's allow-list or an active editor arrives as new; anyone else's is held
for review. Attachments are ignored, messages over CONTRIBUTIONS_MAX_MESSAGE_BYTES refused unread, and each
sender may add CONTRIBUTIONS_MAIL_PER_SENDER items an hour (held items: CONTRIBUTIONS_HELD_PER_NEWSLETTER per
newsletter). A stranger's message can add one held item and nothing else.
"""

import dataclasses
import json
import logging
from email.utils import getaddresses

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from newsletter import events
from newsletter.inbox.entries import mail_fields
from newsletter.mail.addresses import contribution_slug
from newsletter.mail.inbound import read_imap, read_maildir
from newsletter.models import Contribution, ContributionMailbox
from newsletter.ratelimit import allow

logger = logging.getLogger(__name__)
WINDOW = 3600


@dataclasses.dataclass
class MailReport:
    new: int = 0
    held: int = 0
    too_large: int = 0
    rate_limited: int = 0
    ignored: int = 0  # not to a contribution address, no such mailbox, or no sender

    def line(self):
        return (
            f"{self.new} new item(s), {self.held} held for review, {self.too_large} refused as too large, "
            f"{self.rate_limited} over a sender's limit, {self.ignored} ignored"
        )


def _recipients(message):
    headers = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        try:
            headers += [str(v) for v in message.get_all(name, [])]
        except (TypeError, ValueError, LookupError):
            continue
    try:
        return [address for _, address in getaddresses(headers)]
    except (TypeError, ValueError, IndexError):
        return []


def editor_addresses():
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return list(users.values_list("email", flat=True))


def handle_message(message, report, editors=None):
    """One message → at most one contribution (new or held)."""
    slug = contribution_slug(_recipients(message))
    mailbox = (
        ContributionMailbox.objects.select_related("newsletter").filter(newsletter__slug=slug, enabled=True).first()
        if slug
        else None
    )
    if mailbox is None:
        report.ignored += 1
        return None
    fields = mail_fields(message)
    sender = fields["contact_email"]
    if not sender:
        report.ignored += 1
        return None
    allowed = mailbox.allows(sender, editor_addresses() if editors is None else editors)
    limit = settings.CONTRIBUTIONS_MAIL_PER_SENDER
    if not allow(f"contribute:mail:{sender}", limit, WINDOW) or (
        not allowed
        and not allow(f"contribute:held:{mailbox.newsletter_id}", settings.CONTRIBUTIONS_HELD_PER_NEWSLETTER, WINDOW)
    ):
        report.rate_limited += 1
        logger.info(json.dumps({"event": "contribution_mail_limited", "newsletter": mailbox.newsletter_id}))
        return None
    with transaction.atomic():
        contribution = Contribution.objects.create(
            newsletter=mailbox.newsletter,
            origin=Contribution.Origin.MAIL,
            status=Contribution.Status.NEW if allowed else Contribution.Status.HELD,
            suggested_heading=mailbox.section_heading,
            suggested_topic_id=mailbox.topic_id,
            **fields,
        )
        events.contribution_received.send(sender=Contribution, contribution=contribution)
    if allowed:
        report.new += 1
    else:
        report.held += 1
    return contribution


def process_contributions(maildir=None, imap_url=None):
    """Read the contribution mailbox: a Maildir path when given, else CONTRIBUTIONS_IMAP_URL. Returns a MailReport."""
    report = MailReport()
    editors = editor_addresses()

    def too_large(size):
        report.too_large += 1
        logger.warning(json.dumps({"event": "contribution_mail_too_large", "bytes": size}))

    options = {"max_bytes": settings.CONTRIBUTIONS_MAX_MESSAGE_BYTES, "too_large": too_large}
    if maildir:
        read_maildir(maildir, lambda message: handle_message(message, report, editors), **options)
        return report
    url = imap_url or settings.CONTRIBUTIONS_IMAP_URL
    if not url:
        raise ValueError("Give a Maildir path or set CONTRIBUTIONS_IMAP_URL.")
    read_imap(url, lambda message: handle_message(message, report, editors), **options)
    return report
