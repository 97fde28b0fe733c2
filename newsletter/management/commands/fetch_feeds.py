"""Fetch feed sources into the inbox, with a line per source.

manage.py fetch_feeds              # the sources that are due (what beat's newsletter.feeds.fetch_due does)
manage.py fetch_feeds --all        # every enabled source, due or not
manage.py fetch_feeds --source 3   # one source by id, even when paused
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from newsletter.inbox import feeds
from newsletter.models import FeedSource


class Command(BaseCommand):
    help = "Fetch RSS/Atom feed sources into the contributions inbox."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every enabled source, due or not")
        parser.add_argument("--source", type=int, help="one source by id (even when paused)")

    def handle(self, *args, all=False, source=None, **options):
        now = timezone.now()
        if source is not None:
            found = FeedSource.objects.filter(pk=source).first()
            if found is None:
                raise CommandError(f"No feed source with id {source}.")
            sources = [found]
        elif all:
            sources = list(FeedSource.objects.filter(enabled=True).order_by("pk"))
        else:
            sources = None
        results = []

        def progress(result):
            results.append(result)
            self.stdout.write(f"[{len(results)}] {result.line()}")

        if sources is None:
            feeds.fetch_due(now, progress=progress)
        else:
            for one in sources:
                progress(feeds.fetch(one, now))
        new = sum(r.new for r in results)
        failed = sum(bool(r.error) for r in results)
        self.stdout.write(f"{len(results)} source(s) fetched: {new} new item(s), {failed} failed.")
