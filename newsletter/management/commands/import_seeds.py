"""python manage.py import_seeds [PATH ...] [--newsletter SLUG] [--update] [--dry-run] [--json]"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newsletter.importer.files import SeedFileError, parse_seed, read_seed, seed_paths
from newsletter.management.loading import LoadParsedFiles


class Command(LoadParsedFiles, BaseCommand):
    help = "Import plain-text past updates (default: every file in seeds/) as archived issues."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="Files to import (default: seeds/*.txt).")
        parser.add_argument("--newsletter", help="Slug of the newsletter to import into (overrides the sidecar).")
        parser.add_argument("--update", action="store_true", help="Refresh posts whose text changed.")
        parser.add_argument("--dry-run", action="store_true", help="Parse only; touch no database.")
        parser.add_argument("--json", action="store_true", help="With --dry-run: print the parsed issues as JSON.")

    def handle(self, *args, paths, newsletter, update, dry_run, json, **options):
        parsed_files, failures = [], 0
        for path in seed_paths(paths, settings.BASE_DIR / "seeds"):
            try:
                seed = read_seed(path, newsletter=newsletter)
                parsed_files.append((seed, parse_seed(seed)))
            except SeedFileError as exc:
                failures += 1
                self.stderr.write(f"error: {exc}")

        if dry_run:
            self._dry_run(parsed_files, as_json=json)
        else:
            failures += self._load(parsed_files, update=update)
        if failures:
            raise CommandError(f"{failures} file(s) could not be imported; the others were.")
