"""The Celery app.

With CELERY_BROKER_URL unset, the broker is kombu's filesystem transport under
var/queue/: a real worker and beat run beside the web server (`make run`), so
retries and schedules behave as they do on Redis. Eager mode is for unit tests.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("newsletter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
