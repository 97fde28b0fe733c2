"""In-app DKIM (dkimpy) for every outgoing mail, when DKIM_PRIVATE_KEY_FILE, DKIM_SELECTOR and DKIM_DOMAIN are set.

Issue mail is signed as raw bytes (message.IssueEmail); mail built as a Django EmailMessage
(confirmation, welcome, and issue mail handed to a Django backend) is a SignedEmail, signed in
message(): the bytes every backend writes are those of message().as_bytes(linesep="\\r\\n").
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import utf8_charset_qp


class DkimSigner:
    HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-id"]
    HEADERS += [b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type"]

    def __init__(self, key, selector, domain):
        self.key, self.selector, self.domain = key, selector.encode(), domain.encode()

    @classmethod
    def from_settings(cls):
        if not (settings.DKIM_PRIVATE_KEY_FILE and settings.DKIM_SELECTOR and settings.DKIM_DOMAIN):
            return None
        with open(settings.DKIM_PRIVATE_KEY_FILE, "rb") as key_file:
            return cls(key_file.read(), settings.DKIM_SELECTOR, settings.DKIM_DOMAIN)

    def sign(self, raw):
        """The DKIM-Signature header line (CRLF-folded, CRLF-ended) for the message `raw`."""
        import dkim

        return dkim.sign(raw, self.selector, self.domain, self.key, include_headers=self.HEADERS)


class SignedEmail(EmailMultiAlternatives):
    """An EmailMultiAlternatives that is DKIM-signed when a key is configured.

    Every part is quoted-printable (7-bit), so no relay re-encodes the body on the way and breaks
    the signature. Backends that speak to an HTTP API (anymail) never call message(); the
    provider signs those.
    """

    encoding = utf8_charset_qp

    def message(self):
        msg = super().message()
        signer = DkimSigner.from_settings()
        if signer is not None:
            signature = signer.sign(msg.as_bytes(linesep="\r\n")).decode("ascii")
            name, _, value = signature.partition(":")
            # Unfolded: Django refuses line breaks in a header; the relaxed canonicalisation the
            # signature uses ignores where a header is folded, and serialising folds it again.
            msg[name] = value.replace("\r\n", "").strip()
        return msg
