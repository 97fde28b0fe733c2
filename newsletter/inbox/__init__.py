"""What fills the editors' inbox besides people (issue 15): feeds and mail.

entries   a feed entry or a mail → the fields of a Contribution (pure mappers: plain text, sanitised, shortened)
feeds     fetching a due FeedSource politely (newsletter.outbound, conditional GET, timeout, size limit) and
          storing its unseen entries in one transaction; pausing a source that keeps failing
mailin    reading the contribution mailbox (the bounce reader, newsletter.mail.inbound) into the inbox
tasks     newsletter.feeds.fetch_due and newsletter.contributions.read_mailbox (beat)

An area: it uses models, mail and the leaves, and nothing above it. Accepting an item into a draft is the
editor's (newsletter.editor.contributions).
"""
