"""import_subscribers FILE: add subscribers from a CSV file (email,name,newsletters,consent). Safe to run twice."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter.subscribers.csvio import ImportFileError, import_csv


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with the header email,name,newsletters,consent "
        "(newsletters: slugs joined with ';'; consent: yes or no). Rejected rows are listed with their line number."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8)")
        parser.add_argument(
            "--send-confirmations",
            action="store_true",
            help="email a confirmation link to rows with consent 'no' (otherwise they stay pending, unmailed)",
        )

    def handle(self, *args, file, send_confirmations, **options):
        try:
            stream = open(file, "rb")  # noqa: SIM115 (closed below; import_csv streams it)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        with stream:
            size = os.fstat(stream.fileno()).st_size
            # A bar on a terminal only; disable=None turns it off when stderr is not a TTY.
            with tqdm(total=size, unit="B", unit_scale=True, desc="Importing", disable=None, file=sys.stderr) as bar:

                def progress(done):
                    bar.update(done - bar.n)

                try:
                    report = import_csv(stream, send_confirmations=send_confirmations, progress=progress)
                except ImportFileError as exc:
                    raise CommandError(str(exc)) from exc
        for row in report.rejected:
            self.stdout.write(f"line {row.line}: {row.email or '(no address)'}: {row.reason}")
        if report.rejected_count > len(report.rejected):
            self.stdout.write(f"… and {report.rejected_count - len(report.rejected)} more rejected rows.")
        self.stdout.write(self.style.SUCCESS(report.summary()) if not report.rejected_count else report.summary())
