from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "newsletter"
    verbose_name = "Newsletters"

    def ready(self):
        from newsletter.mail import checks  # noqa: F401  (registers the deploy check on mail senders)
        from newsletter.pagecache import connect_signals
        from newsletter.subscribers import bounces  # noqa: F401  (connects the providers' webhook receiver)
        from newsletter.webhooks import receivers  # (and registers the task newsletter.webhooks.deliver)

        connect_signals()  # the archive's page cache forgets pages when what they show changes
        receivers.connect()  # webhooks hear newsletter.events
