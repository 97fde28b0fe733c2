"""import_subscribers FILE [--newsletter SLUG] [--map email=COLUMN,…]: add subscribers from a CSV. Safe to run twice.

Our own header (email,name,newsletters,consent), another tool's export recognised by its header (Mailchimp,
Substack, listmonk: newsletter/subscribers/formats.py), or any CSV with --map.
"""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter.models import Newsletter
from newsletter.subscribers import formats
from newsletter.subscribers.csvio import ImportFileError, import_csv


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with the header email,name,newsletters,consent "
        "(newsletters: slugs joined with ';'; consent: yes or no), from a Mailchimp, Substack or listmonk export "
        "(with --newsletter), or from any CSV with --map. Rejected rows are listed with their line number."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8)")
        parser.add_argument(
            "--send-confirmations",
            action="store_true",
            help="email a confirmation link to rows with consent 'no' (otherwise they stay pending, unmailed)",
        )
        parser.add_argument(
            "--newsletter",
            action="append",
            default=[],
            metavar="SLUG",
            help="the newsletter another tool's subscribers join (repeat or join slugs with commas)",
        )
        parser.add_argument(
            "--map",
            metavar="FIELD=COLUMN,…",
            help="which column is which, for a CSV of any other shape: email (required), name, first_name, "
            "last_name, consent_date, status; e.g. --map 'email=E-mail,name=Full name'",
        )
        parser.add_argument(
            "--source",
            default="another tool",
            help="with --map: the tool the file comes from, recorded with each consent (“Imported from …”)",
        )

    def handle(self, *args, file, send_confirmations, newsletter, map, source, **options):
        mapping = None
        if map:
            try:
                mapping = formats.parse_spec(map, source=source)
            except formats.MappingError as exc:
                raise CommandError(f"--map: {exc}") from exc
        slugs = [s.strip() for value in newsletter for s in value.split(",") if s.strip()]
        newsletters = list(Newsletter.objects.filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {n.slug for n in newsletters})
        if unknown:
            raise CommandError(f"Unknown newsletter: {', '.join(unknown)}")
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
                    report = import_csv(
                        stream,
                        send_confirmations=send_confirmations,
                        progress=progress,
                        mapping=mapping,
                        newsletters=newsletters,
                    )
                except ImportFileError as exc:
                    raise CommandError(str(exc)) from exc
        for row in report.rejected:
            self.stdout.write(f"line {row.line}: {row.email or '(no address)'}: {row.reason}")
        if report.rejected_count > len(report.rejected):
            self.stdout.write(f"… and {report.rejected_count - len(report.rejected)} more rejected rows.")
        self.stdout.write(self.style.SUCCESS(report.summary()) if not report.rejected_count else report.summary())
