"""Celery tasks, one module per area; Celery's autodiscovery imports this package."""

from newsletter.tasks.delivery import send_batch_task, send_issue_task, sweep_task  # noqa: F401
from newsletter.tasks.editor import check_issue_links  # noqa: F401
from newsletter.tasks.health import record_heartbeat  # noqa: F401
from newsletter.tasks.housekeeping import prune_deliveries_task  # noqa: F401
from newsletter.tasks.subscriptions import send_confirmation, send_welcome  # noqa: F401
