"""Read bounces, complaints and mailed unsubscribes from the bounce mailbox and act on them.

    manage.py process_bounces                  # IMAP at BOUNCE_IMAP_URL (unseen messages; marks them seen)
    manage.py process_bounces --maildir PATH   # a Maildir (new messages; moves them to cur/)

Safe to run twice: a message is acted on once, then marked read.
"""

from django.core.management.base import BaseCommand, CommandError

from newsletter.subscribers.bounces import process_bounces


class Command(BaseCommand):
    help = "Process delivery status notifications, complaints and unsubscribe mails."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", help="read this Maildir instead of BOUNCE_IMAP_URL")

    def handle(self, *args, maildir=None, **options):
        try:
            report = process_bounces(maildir=maildir)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.line())
