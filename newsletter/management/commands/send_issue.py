"""Send an issue to its newsletter's active subscribers, with a progress bar; or a test copy.

    manage.py send_issue ISSUE                    # ISSUE: an id, or newsletter-slug/issue-slug
    manage.py send_issue ISSUE --test-to EMAIL    # one copy to EMAIL, touching no delivery
    manage.py send_issue ISSUE --no-wait          # queue it and return

Safe to run twice: a second run finds the issue already sending and only shows its progress.
The send itself runs in the Celery workers (`make worker`, or the worker `make run` starts).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from newsletter.models import Issue
from newsletter.sending import workflow


def find_issue(reference):
    issues = Issue.objects.select_related("newsletter")
    if reference.isdigit():
        issue = issues.filter(pk=int(reference)).first()
    else:
        newsletter_slug, _, slug = reference.strip("/").rpartition("/")
        issue = issues.filter(slug=slug, **({"newsletter__slug": newsletter_slug} if newsletter_slug else {})).first()
    if issue is None:
        raise CommandError(f"No issue {reference!r} (give an id or newsletter-slug/issue-slug).")
    return issue


class Command(BaseCommand):
    help = "Send an issue to every active subscriber (or --test-to one address), showing progress."

    def add_arguments(self, parser):
        parser.add_argument("issue", help="issue id, or newsletter-slug/issue-slug")
        parser.add_argument("--test-to", action="append", metavar="EMAIL", help="send one test copy to EMAIL")
        parser.add_argument("--no-wait", action="store_true", help="queue the send and return at once")
        parser.add_argument("--timeout", type=float, default=0, help="stop waiting after this many seconds")

    def handle(self, *args, issue, test_to, no_wait, timeout, **options):
        issue = find_issue(issue)
        if test_to:
            sent = workflow.send_test(issue, test_to)
            self.stdout.write(f"Sent {sent} test copy(ies) of “{issue}”; no delivery was recorded.")
            return
        if issue.status in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
            rendered_warning = self._size_warning(issue)
            try:
                workflow.start_send(issue)
            except workflow.SendError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"Sending “{issue}” to {workflow.audience_count(issue)} subscriber(s).{rendered_warning}")
        elif issue.status in (Issue.Status.SENDING, Issue.Status.PAUSED, Issue.Status.SENT):
            self.stdout.write(f"“{issue}” is already {issue.get_status_display().lower()}; showing its progress.")
        else:
            raise CommandError(" ".join(workflow.can_send(issue)))
        if not no_wait:
            self._wait(issue, timeout)

    def _size_warning(self, issue):
        from newsletter.rendering import render_issue

        rendered = render_issue(issue)
        if rendered.too_big:
            return f" Warning: the HTML is {rendered.html_size // 1024} KB; Gmail clips messages past about 102 KB."
        return ""

    def _wait(self, issue, timeout):
        started = time.monotonic()
        counts = workflow.progress(issue)
        with tqdm(total=counts["total"], unit="msg", file=self.stdout, dynamic_ncols=True) as bar:
            while True:
                counts = workflow.progress(issue)
                bar.total = counts["total"]
                bar.n = counts["total"] - counts["pending"]
                bar.set_postfix(sent=counts["sent"], failed=counts["failed"], rate=f"{counts['rate']}/s")
                bar.refresh()
                if counts["status"] == Issue.Status.PAUSED:
                    self.stdout.write("Paused (too many failures, or by an editor); resume it in the admin.")
                    return
                if counts["total"] and not counts["pending"]:
                    break
                if timeout and time.monotonic() - started > timeout:
                    self.stdout.write("Still sending; stopped waiting.")
                    return
                time.sleep(0.5)
        self.stdout.write(
            f"Done: {counts['sent']} sent, {counts['failed']} failed, {counts['skipped']} skipped "
            f"(unsubscribed before their turn)."
        )
