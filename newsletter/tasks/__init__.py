"""Every Celery task of the app, gathered here because Celery's autodiscovery imports `newsletter.tasks`.

The tasks live with their area (sending/tasks.py, subscribers/tasks.py, editor/tasks.py, archive/tasks.py,
inbox/tasks.py, health.py); their registered names are stable, whatever module holds them.
"""

from newsletter.archive.tasks import flush_reach_counts  # noqa: F401
from newsletter.editor.tasks import check_issue_links, prune_revisions  # noqa: F401
from newsletter.health import record_heartbeat  # noqa: F401
from newsletter.inbox.tasks import fetch_due_feeds, read_contribution_mailbox  # noqa: F401
from newsletter.sending.tasks import prune_deliveries_task, send_batch_task, send_issue_task, sweep_task  # noqa: F401
from newsletter.subscribers.tasks import send_confirmation, send_welcome  # noqa: F401
