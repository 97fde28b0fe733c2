"""What every outgoing mail says about itself, one rule for issue and transactional mail alike.

- From: the newsletter's sender name and address; a newsletter without an address of its own sends
  from DEFAULT_FROM_EMAIL under its own name. Mail about several newsletters at once comes from
  DEFAULT_FROM_EMAIL under the site's name (the name DEFAULT_FROM_EMAIL carries, else SITE_URL's host).
- Date: now, in the site's time zone (TIME_ZONE) with its numeric offset; never "-0000" (RFC 5322:
  zone unknown) nor the obsolete "GMT".
- Message-ID: on the From address's domain, or on SITE_URL's host when that domain is a local one
  (localhost, *.local, …) that means nothing outside this machine.
"""

from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

# Names no other machine resolves to us: mail from them is refused, or lands in spam, or both.
LOCAL_NAMES = {"localhost", "localdomain"}
LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".invalid", ".test", ".home.arpa", ".lan")


def is_local_domain(domain):
    """True for a domain that only means something on this machine or network (localhost, *.local, no dot)."""
    domain = (domain or "").strip().rstrip(".").lower()
    return not domain or "." not in domain or domain in LOCAL_NAMES or domain.endswith(LOCAL_SUFFIXES)


def domain_of(address):
    return parseaddr(address or "")[1].rpartition("@")[2].lower()


def _default_from():
    """(name, address) of DEFAULT_FROM_EMAIL, which may be "Name <address>" or a bare address."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)


def site_name():
    return _default_from()[0] or urlsplit(settings.SITE_URL).hostname or ""


def sender(newsletter=None):
    """(display name, address) the mail is from: the newsletter's sender, else DEFAULT_FROM_EMAIL."""
    default_address = _default_from()[1]
    if newsletter is None:
        return " ".join(site_name().split()), default_address
    name = newsletter.sender_name or newsletter.name
    return " ".join(name.split()), newsletter.sender_email or default_address


def message_domain(newsletter=None):
    """The domain for Message-IDs (and List-Id): the sender's, or SITE_URL's host when the sender's is local."""
    domain = domain_of(sender(newsletter)[1])
    if is_local_domain(domain):
        domain = urlsplit(settings.SITE_URL).hostname or domain or "localhost"
    return domain


def message_id(newsletter=None):
    return make_msgid(domain=message_domain(newsletter))


def date_header(now=None):
    """RFC 5322 date in the site's time zone: "Tue, 24 May 2011 09:00:00 +0100"."""
    return format_datetime(timezone.localtime(now or timezone.now(), timezone.get_default_timezone()))
