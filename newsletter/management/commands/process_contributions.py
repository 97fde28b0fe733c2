"""Read the contribution mailbox (contribute+<newsletter>@…) into the inbox.

    manage.py process_contributions                  # IMAP at CONTRIBUTIONS_IMAP_URL (unseen; marks them seen)
    manage.py process_contributions --maildir PATH   # a Maildir (new messages; moves them to cur/)

Safe to run twice: each message is read once, then marked read.
"""

from django.core.management.base import BaseCommand, CommandError

from newsletter.inbox.mailin import process_contributions


class Command(BaseCommand):
    help = "Turn mail to the contribution addresses into inbox items (held for review unless the sender is allowed)."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="read this Maildir instead of CONTRIBUTIONS_IMAP_URL")

    def handle(self, *args, maildir=None, **options):
        try:
            report = process_contributions(maildir=maildir)
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.line())
