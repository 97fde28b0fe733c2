"""manage.py prune_deliveries [--days N] [--dry-run]: summarise and delete old Delivery rows.

The same work as the daily beat task newsletter.sending.housekeeping.prune_deliveries; safe to run twice.
"""

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Delivery
from newsletter.sending import housekeeping


class Command(BaseCommand):
    help = "Store per-issue delivery totals and delete the Delivery rows of issues sent more than N days ago."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="retention (default DELIVERY_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be pruned, change nothing")

    def handle(self, *args, days, dry_run, **options):
        try:
            issues = list(housekeeping.prunable_issues(days=days).select_related("newsletter"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if dry_run:
            for issue in issues:
                rows = Delivery.objects.filter(issue=issue).count()
                self.stdout.write(
                    f"would prune {issue.newsletter.slug}/{issue.slug} (sent {issue.sent_at:%Y-%m-%d}): {rows} rows"
                )
            self.stdout.write(f"{len(issues)} issue(s) would be pruned")
            return
        report = housekeeping.prune_deliveries(days=days)
        names = {issue.pk: f"{issue.newsletter.slug}/{issue.slug}" for issue in issues}
        for issue_id in report.issues:
            self.stdout.write(f"pruned {names.get(issue_id, issue_id)}")
        self.stdout.write(str(report))
