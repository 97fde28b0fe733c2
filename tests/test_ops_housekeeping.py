"""Housekeeping: old Delivery rows are summarised per issue and pruned, and every figure shown stays the same."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from newsletter.editor import dashboard
from newsletter.models import Delivery, Issue, IssueDeliveryStats, Subscriber, Subscription
from newsletter.sending import housekeeping, workflow
from newsletter.sending.tasks import prune_deliveries_task


@pytest.fixture
def readers(newsletter):
    for n in range(7):
        person = Subscriber.objects.create(email=f"reader{n}@example.com", name=f"Reader {n}")
        Subscription.objects.create(subscriber=person, newsletter=newsletter, status="active")


@pytest.fixture
def send(rich_issue, readers, django_capture_on_commit_callbacks):
    """Send a copy of the rich issue to the seven readers (locmem email), then age it `days_ago`."""

    def send(days_ago, title="Old issue"):
        issue = rich_issue.copy_as_draft()
        Issue.objects.filter(pk=issue.pk).update(title=title)
        with django_capture_on_commit_callbacks(execute=True):
            workflow.start_send(issue)
        issue.refresh_from_db()
        assert issue.status == Issue.Status.SENT
        when = timezone.now() - datetime.timedelta(days=days_ago)
        Issue.objects.filter(pk=issue.pk).update(sent_at=when, send_started_at=when)
        Delivery.objects.filter(issue=issue).update(sent_at=when)
        return issue

    return send


def mixed_outcomes(issue):
    """Of seven: one failed, one skipped, one hard bounce, one soft bounce, one complaint."""
    rows = list(Delivery.objects.filter(issue=issue).order_by("pk"))
    Delivery.objects.filter(pk=rows[0].pk).update(status="failed", last_error="550 no such user")
    Delivery.objects.filter(pk=rows[1].pk).update(status="skipped")
    Delivery.objects.filter(pk=rows[2].pk).update(bounce="hard", bounced_at=timezone.now())
    Delivery.objects.filter(pk=rows[3].pk).update(bounce="soft", bounced_at=timezone.now())
    Delivery.objects.filter(pk=rows[4].pk).update(bounce="complaint", bounced_at=timezone.now())


def admin_progress_text(client, issue, parse_html):
    page = parse_html(client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])))
    return " ".join(page.find("span", class_="delivery-progress").text.split())


def test_pruning_an_old_issue_keeps_every_figure_shown_for_it(send, admin_client, parse_html):
    issue = send(days_ago=120)
    mixed_outcomes(issue)
    before = workflow.progress(issue), dashboard.last_send(), admin_progress_text(admin_client, issue, parse_html)

    report = housekeeping.prune_deliveries(batch_size=3)  # 7 rows: three batches

    assert report.issues == [issue.pk] and report.deleted == 7
    assert not Delivery.objects.filter(issue=issue).exists()
    after = workflow.progress(issue), dashboard.last_send(), admin_progress_text(admin_client, issue, parse_html)
    assert after == before
    assert after[0] == {"total": 7, "sent": 5, "failed": 1, "skipped": 1, "pending": 0, "rate": 0, "status": "sent"}
    assert after[1]["bounced"] == 3  # the dashboard's "bounced" counts complaints too, as before
    stats = IssueDeliveryStats.objects.get(issue=issue)
    assert (stats.total, stats.sent, stats.failed, stats.skipped, stats.bounced, stats.complaints) == (7, 5, 1, 1, 2, 1)


def test_pruning_twice_changes_nothing_the_second_time(send):
    issue = send(days_ago=120)
    mixed_outcomes(issue)
    first = call_command_output("prune_deliveries")
    totals = workflow.progress(issue)

    second = call_command_output("prune_deliveries")

    assert "1 issue(s) pruned, 1 summarised, 7 delivery row(s) deleted" in first
    assert f"pruned weekly-update/{issue.slug}" in first
    assert "0 issue(s) pruned, 0 summarised, 0 delivery row(s) deleted" in second
    assert workflow.progress(issue) == totals
    assert IssueDeliveryStats.objects.count() == 1


def test_a_prune_stopped_half_way_is_finished_by_the_next_run_with_the_same_totals(send):
    issue = send(days_ago=120)
    mixed_outcomes(issue)
    housekeeping.summarise(issue.pk)
    Delivery.objects.filter(pk__in=Delivery.objects.filter(issue=issue).values("pk")[:4]).delete()  # then it stopped

    report = housekeeping.prune_deliveries()

    assert report.summarised == 0 and report.deleted == 3
    assert workflow.progress(issue) | {"rate": 0} == {
        "total": 7, "sent": 5, "failed": 1, "skipped": 1, "pending": 0, "rate": 0, "status": "sent"
    }  # fmt: skip


def test_recent_issues_and_open_sends_are_left_alone(send):
    recent = send(days_ago=40, title="Recent issue")
    reopened = send(days_ago=200, title="Old issue with a retry under way")
    Delivery.objects.filter(pk=Delivery.objects.filter(issue=reopened).first().pk).update(status="pending")
    paused = send(days_ago=200, title="Old issue paused")
    Issue.objects.filter(pk=paused.pk).update(status=Issue.Status.PAUSED)

    output = call_command_output("prune_deliveries")

    assert "0 issue(s) pruned" in output
    for issue in (recent, reopened, paused):
        assert Delivery.objects.filter(issue=issue).count() == 7
        assert not IssueDeliveryStats.objects.filter(issue=issue).exists()


def test_the_daily_beat_task_prunes_with_the_configured_retention(send, settings):
    old, newer = send(days_ago=61), send(days_ago=59)
    settings.DELIVERY_RETENTION_DAYS = 60

    result = prune_deliveries_task.delay().get()

    assert result == {"issues": [old.pk], "summarised": 1, "deleted": 7}
    assert Delivery.objects.filter(issue=newer).count() == 7
    schedule = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == prune_deliveries_task.name
    ]
    assert schedule and schedule[0]["schedule"] == 24 * 3600


def test_retention_of_thirty_days_or_less_is_refused(send):
    send(days_ago=45)

    with pytest.raises(CommandError, match="more than 30 days"):
        call_command("prune_deliveries", "--days", "30")
    assert Delivery.objects.count() == 7
    assert settings.DELIVERY_RETENTION_DAYS == 90


def test_the_site_refuses_to_start_with_a_retention_of_thirty_days_or_less(tmp_path):
    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path), "DEBUG": "true", "DELIVERY_RETENTION_DAYS": "30"}
    root = Path(__file__).resolve().parent.parent

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "DELIVERY_RETENTION_DAYS must be more than 30" in result.stderr


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(send):
    send(days_ago=120)

    output = call_command_output("prune_deliveries", "--dry-run")

    assert "7 rows" in output and "1 issue(s) would be pruned" in output
    assert Delivery.objects.count() == 7 and not IssueDeliveryStats.objects.exists()


def call_command_output(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
