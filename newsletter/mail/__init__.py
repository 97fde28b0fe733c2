"""Mail in and out: building messages and handing them to a server; nothing here decides who gets what.

message        an issue's email worked out once, one recipient's copy per build() (quoted-printable, DKIM)
transport      SMTP with a deadline per message, or any Django email backend; transient/permanent errors
addresses      sender domain, bounce and List-Unsubscribe mailboxes, VERP
headers        what every outgoing mail says about itself: From, Date, Message-ID; local domains
signing        in-app DKIM for every outgoing mail (raw issue mail, and SignedEmail for the rest)
checks         `check --deploy`: no mail from a local address
transactional  confirmation and welcome mail
outbox         the file outbox backend used when no mail server is configured
inbound        reading a bounce mailbox and classifying each message
"""
