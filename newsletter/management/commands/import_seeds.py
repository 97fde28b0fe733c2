"""python manage.py import_seeds [PATH ...] [--newsletter SLUG] [--update] [--dry-run] [--json]"""

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter.importer.files import SeedFileError, parse_seed, read_seed, seed_paths
from newsletter.importer.load import load_file


class Command(BaseCommand):
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

    def _dry_run(self, parsed_files, as_json):
        if as_json:
            issues = [issue.contract() for _, issues in parsed_files for issue in issues]
            self.stdout.write(_dumps(issues))
            return
        for seed, issues in parsed_files:
            self.stdout.write(f"{seed.path.name}: {len(issues)} issue(s) would be imported into {seed.newsletter_slug}")

    def _load(self, parsed_files, update):
        failures = 0
        total = sum(len(issues) for _, issues in parsed_files)
        show_bar = sys.stderr.isatty() and total > 1
        with tqdm(total=total, unit="post", disable=not show_bar, file=sys.stderr, leave=False) as bar:
            for seed, issues in parsed_files:
                bar.set_description(seed.path.name)
                try:
                    report = load_file(seed, issues, update=update, progress=bar)
                except Exception as exc:  # one bad file must not stop the others; its transaction rolled back
                    failures += 1
                    self.stderr.write(f"error: {seed.path.name}: {exc}")
                    continue
                self.stdout.write(report.line())
        return failures


def _dumps(data):
    return json.dumps(data, ensure_ascii=False, indent=2)
