"""The Celery app.

With CELERY_BROKER_URL unset, the broker is kombu's filesystem transport under
var/queue/: a real worker and beat run beside the web server (`make run`), so
retries and schedules behave as they do on Redis. Eager mode is for unit tests.
"""

import os

from celery import Celery
from celery.signals import task_prerun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("newsletter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def keep_database_connections(**kwargs):
    """In a worker, a database connection lives WORKER_CONN_MAX_AGE seconds and is checked before reuse."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        database["CONN_MAX_AGE"] = settings.WORKER_CONN_MAX_AGE
        database["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
def check_database_connections(task=None, **kwargs):
    """Django's own rule (as at each web request): close a connection that is too old or broken."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the caller's transaction: leave its connection alone
    from django.db import close_old_connections

    close_old_connections()
