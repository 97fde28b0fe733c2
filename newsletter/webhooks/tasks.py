"""The delivery task (stable name newsletter.webhooks.deliver): one attempt, then a retry with backoff until
the event has been tried for a day (delivery.give_up)."""

from celery import shared_task
from django.conf import settings

from newsletter.models import WebhookEndpoint
from newsletter.webhooks import delivery


@shared_task(name="newsletter.webhooks.deliver", bind=True, max_retries=None, acks_late=True)
def deliver(self, endpoint_id, event, body, first_at):
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None:
        return False
    if delivery.post(endpoint, event, body, attempt=self.request.retries + 1):
        return True
    if delivery.give_up(endpoint_id, first_at) or settings.CELERY_TASK_ALWAYS_EAGER:
        return False  # (eager mode, in tests and one-process setups: the attempt is logged, not retried in-line)
    raise self.retry(countdown=delivery.backoff(self.request.retries))
