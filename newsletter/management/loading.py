"""What import_seeds and import_issues share once their files are parsed: the dry run's report and the load,
file by file (one transaction each, in importer.load), with a progress bar of posts on a terminal."""

import json
import sys

from tqdm import tqdm

from newsletter.importer.load import load_file


class LoadParsedFiles:
    """A mixin for a BaseCommand: `parsed_files` is a list of (seed, parsed issues) pairs."""

    def _dry_run(self, parsed_files, as_json):
        if as_json:
            issues = [issue.contract() for _, issues in parsed_files for issue in issues]
            self.stdout.write(json.dumps(issues, ensure_ascii=False, indent=2))
            return
        for seed, issues in parsed_files:
            self.stdout.write(f"{seed.path.name}: {len(issues)} issue(s) would be imported into {seed.newsletter_slug}")

    def _load(self, parsed_files, update):
        """Load each file; returns how many failed (each named on stderr, the others loaded all the same)."""
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
