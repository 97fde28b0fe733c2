"""The send_issue command: a test copy touches no delivery; a real send queues it and reports progress."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from newsletter.models import Delivery, Issue, Subscriber, Subscription


@pytest.fixture
def draft(rich_issue, newsletter):
    for n in range(2):
        person = Subscriber.objects.create(email=f"c{n}@example.com")
        Subscription.objects.create(subscriber=person, newsletter=newsletter, status="active")
    return rich_issue.copy_as_draft()


def test_test_to_sends_one_copy_and_records_no_delivery(draft, capsys):
    call_command("send_issue", str(draft.pk), test_to=["me@example.com"])
    assert [m.to for m in mail.outbox] == [["me@example.com"]]
    assert not Delivery.objects.exists()
    assert "no delivery was recorded" in capsys.readouterr().out


def test_send_issue_by_slug_sends_to_every_subscriber(draft, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_issue", f"weekly-update/{draft.slug}", no_wait=True)
    draft.refresh_from_db()
    assert draft.status == Issue.Status.SENT and len(mail.outbox) == 2
    assert "to 2 subscriber(s)" in capsys.readouterr().out

    call_command("send_issue", str(draft.pk), timeout=1)  # again: shows progress, sends nothing
    assert len(mail.outbox) == 2
    assert "Done: 2 sent, 0 failed" in capsys.readouterr().out


def test_imported_issues_and_unknown_issues_are_refused(rich_issue):
    with pytest.raises(CommandError, match="never sent"):
        call_command("send_issue", str(rich_issue.pk))
    with pytest.raises(CommandError, match="No issue"):
        call_command("send_issue", "nope/nothing")
