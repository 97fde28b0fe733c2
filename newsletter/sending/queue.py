"""Queueing the sending tasks, always after the transaction commits (a task must find the rows)."""

from django.db import transaction


def queue_send_issue(issue_id):
    from newsletter.sending.tasks import send_issue_task

    transaction.on_commit(lambda: send_issue_task.delay(issue_id))


def queue_batches(issue_id, count, countdown=None):
    from newsletter.sending.tasks import send_batch_task

    def queue():
        for _ in range(count):
            send_batch_task.apply_async((issue_id,), countdown=countdown)

    transaction.on_commit(queue)
