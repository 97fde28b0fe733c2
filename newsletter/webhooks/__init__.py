"""Webhooks (docs/api.md#webhooks): other systems hear what happens, by signed POSTs to the URLs editors
register per newsletter (newsletter.models.WebhookEndpoint, in the admin).

Owns: listening to newsletter.events (`receivers`, connected in NewsletterConfig.ready()), what each event
says (`payloads`: no personal data beyond what the event needs), signing, posting and logging every attempt
through newsletter.outbound (`delivery`), and the Celery task that retries for a day (`tasks`,
`newsletter.webhooks.deliver`). A door, at the top layer: nothing imports it.
"""
