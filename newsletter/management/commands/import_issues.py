"""python manage.py import_issues --from substack|markdown PATH [--newsletter SLUG] [--update] [--dry-run] [--json]"""

from django.core.management.base import BaseCommand, CommandError

from newsletter.importer import sources
from newsletter.management.loading import LoadParsedFiles


class Command(LoadParsedFiles, BaseCommand):
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
