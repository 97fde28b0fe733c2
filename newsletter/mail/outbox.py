"""Email backends of our own."""

import os
import re
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from newsletter.mail import headers


class OutboxBackend(BaseEmailBackend):
    """Writes each message to OUTBOX_DIR/<Message-ID>.eml, for one machine with no mail server.

    The file is written under a temporary name and renamed, so a reader never
    sees half a message.
    """

    def __init__(self, fail_silently=False, outbox_dir=None, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.outbox_dir = Path(outbox_dir or settings.OUTBOX_DIR)

    def send_messages(self, email_messages):
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if "Message-ID" not in message.extra_headers:
                message.extra_headers["Message-ID"] = headers.message_id()  # mail from elsewhere (Django's own)
            message_id = message.extra_headers["Message-ID"]
            name = re.sub(r"[^A-Za-z0-9._@-]", "_", message_id.strip("<>"))
            path = self.outbox_dir / f"{name}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(message.message().as_bytes(linesep="\r\n"))
            os.replace(tmp, path)
            sent += 1
        return sent
