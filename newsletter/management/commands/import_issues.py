"""python manage.py import_issues --from substack|markdown PATH [--newsletter SLUG] [--update] [--dry-run] [--json]"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter.importer import sources
from newsletter.importer.load import load_file


class Command(BaseCommand):
    help = (
        "Import past issues from another tool: an unzipped Substack export (posts.csv and posts/*.html) "
        "or a folder of Markdown files with front matter. Safe to run twice (docs/importer.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="kind", choices=["substack", "markdown"], required=True)
        parser.add_argument("path", help="the Substack export's folder, or the Markdown folder (or one file)")
        parser.add_argument("--newsletter", help="slug of the newsletter to import into (overrides the files')")
        parser.add_argument("--update", action="store_true", help="refresh issues whose source changed")
        parser.add_argument("--dry-run", action="store_true", help="parse only; touch no database")
        parser.add_argument("--json", action="store_true", help="with --dry-run: print the parsed issues as JSON")

    def handle(self, *args, kind, path, newsletter, update, dry_run, json, **options):
        found = (sources.substack if kind == "substack" else sources.markdown)(path, newsletter=newsletter)
        for message in found.skipped:
            self.stdout.write(f"skipped: {message}")
        for message in found.errors:
            self.stderr.write(f"error: {message}")
        failures = len(found.errors)
        if dry_run:
            self._dry_run(found.units, as_json=json)
        else:
            failures += self._load(found.units, update=update)
        if failures:
            raise CommandError(f"{failures} file(s) could not be imported; the others were.")

    def _dry_run(self, units, as_json):
        if as_json:
            data = [issue.contract() for _, issues in units for issue in issues]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        for seed, issues in units:
            self.stdout.write(f"{seed.path.name}: {len(issues)} issue(s) would be imported into {seed.newsletter_slug}")

    def _load(self, units, update):
        failures = 0
        show_bar = sys.stderr.isatty() and len(units) > 1
        with tqdm(total=len(units), unit="post", disable=not show_bar, file=sys.stderr, leave=False) as bar:
            for seed, issues in units:
                bar.set_description(seed.path.name)
                try:
                    report = load_file(seed, issues, update=update, progress=bar)
                except Exception as exc:  # one bad file must not stop the others; its transaction rolled back
                    failures += 1
                    self.stderr.write(f"error: {seed.path.name}: {exc}")
                    continue
                self.stdout.write(report.line())
        return failures
