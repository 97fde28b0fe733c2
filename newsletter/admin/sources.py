"""What fills the inbox besides people: feed sources (with "Fetch now", their last error and pause) and the
contribution mailbox of each newsletter (its address and allow-list)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone

from newsletter import outbound
from newsletter.inbox import feeds
from newsletter.mail.addresses import contribution_address
from newsletter.models import ContributionMailbox, FeedSource


class FeedSourceForm(forms.ModelForm):
    url = forms.URLField(label="Feed URL", max_length=1000, assume_scheme="https")

    class Meta:
        model = FeedSource
        fields = ["newsletter", "name", "url", "keywords", "section_heading", "topic", "interval_minutes", "enabled"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            outbound.check(url, settings.FEEDS_ALLOW_PRIVATE)
        except outbound.Refused as exc:
            raise forms.ValidationError(f"This feed cannot be fetched: {exc}.") from exc
        return url

    def save(self, commit=True):
        source = super().save(commit=False)
        if source.enabled and ("enabled" in self.changed_data or "url" in self.changed_data):
            source.failures, source.next_fetch_at = 0, None  # resumed or moved: fetch at the next sweep
            source.etag, source.last_modified = "", ""
        if commit:
            source.save()
        return source


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    form = FeedSourceForm
    list_display = ["name", "newsletter", "enabled", "last_fetched_at", "failures", "last_error"]
    list_filter = ["newsletter", "enabled"]
    search_fields = ["name", "url"]
    readonly_fields = ["last_fetched_at", "next_fetch_at", "failures", "last_error", "etag", "last_modified"]
    actions = ["fetch_now"]

    @admin.action(description="Fetch now")
    def fetch_now(self, request, queryset):
        now = timezone.now()
        for source in queryset.select_related("newsletter"):
            result = feeds.fetch(source, now)
            self.message_user(request, result.line(), messages.ERROR if result.error else messages.SUCCESS)


class MailboxForm(forms.ModelForm):
    class Meta:
        model = ContributionMailbox
        fields = ["newsletter", "enabled", "allowed_senders", "section_heading", "topic"]

    def clean_allowed_senders(self):
        lines = [line.strip() for line in self.cleaned_data["allowed_senders"].splitlines() if line.strip()]
        bad = [line for line in lines if "@" not in line or " " in line]
        if bad:
            raise forms.ValidationError(f"Not an address or @domain: {', '.join(bad[:5])}.")
        return "\n".join(lines)


@admin.register(ContributionMailbox)
class ContributionMailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["newsletter", "address", "enabled"]
    readonly_fields = ["address"]

    @admin.display(description="Address")
    def address(self, mailbox):
        return contribution_address(mailbox.newsletter) if mailbox.newsletter_id else "–"
