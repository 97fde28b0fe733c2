"""Segments in the admin: some of a newsletter's subscribers, by what is already stored about them.

The change form shows how many subscribers the segment holds now, and newsletter/segment-count.js updates that
count as the editor edits the criteria, from `count/` (JSON, behind the admin's login, no write). A segment is
used as the audience of a send or of a test on the Send by topic screen (newsletter/editor/topicsend.py).
"""

from django import forms
from django.contrib import admin
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from newsletter.models import Newsletter, Subscription, Topic
from newsletter.models.topics import Segment, clean_domain, segment_criteria, segment_subscriptions


class TopicChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, topic):
        return f"{topic.newsletter.name}: {topic.name}"


class SegmentForm(forms.ModelForm):
    topics = TopicChoices(
        queryset=Topic.objects.select_related("newsletter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=Segment._meta.get_field("topics").help_text,
    )

    class Meta:
        model = Segment
        fields = ["newsletter", "name", "topics", "subscribed_since", "method", "domain"]
        widgets = {"subscribed_since": forms.DateInput(attrs={"type": "date"})}

    def clean_domain(self):
        return clean_domain(self.cleaned_data.get("domain"))

    def clean(self):
        data = super().clean()
        newsletter = data.get("newsletter")
        if newsletter and any(t.newsletter_id != newsletter.pk for t in data.get("topics") or ()):
            self.add_error("topics", "Choose only topics of the segment's newsletter.")
        return data


class CountForm(forms.Form):
    """The criteria as the change form has them now (for the live count)."""

    newsletter = forms.ModelChoiceField(queryset=Newsletter.objects.all())
    topics = forms.ModelMultipleChoiceField(queryset=Topic.objects.all(), required=False)
    subscribed_since = forms.DateField(required=False)
    method = forms.ChoiceField(choices=[("", ""), *Subscription.Method.choices], required=False)
    domain = forms.CharField(required=False, max_length=253)

    def clean_domain(self):
        return clean_domain(self.cleaned_data.get("domain"))


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "newsletter", "criteria_summary", "members"]
    list_filter = ["newsletter"]
    search_fields = ["name", "domain"]
    readonly_fields = ["live_count"]
    fields = ["newsletter", "name", "topics", "subscribed_since", "method", "domain", "live_count"]

    @property
    def media(self):
        return super().media + forms.Media(js=["newsletter/segment-count.js"])

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("newsletter").prefetch_related("topics")

    def get_urls(self):
        count = path("count/", self.admin_site.admin_view(self.count_view), name="newsletter_segment_count")
        return [count, *super().get_urls()]

    def count_view(self, request):
        """{"count": n} for the criteria in the query string; {"errors": …} (400) when they are not valid."""
        if not self.has_view_or_change_permission(request) and not self.has_add_permission(request):
            return JsonResponse({"error": "Not allowed."}, status=403)
        form = CountForm(request.GET)
        if not form.is_valid():
            return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
        data = form.cleaned_data
        criteria = segment_criteria(
            data["newsletter"].pk,
            [t.pk for t in data["topics"] if t.newsletter_id == data["newsletter"].pk],
            data["subscribed_since"],
            data["method"],
            data["domain"],
        )
        return JsonResponse({"count": segment_subscriptions(criteria).count()})

    @admin.display(description="Subscribers in it now")
    def live_count(self, obj):
        count = obj.subscriptions().count() if obj and obj.pk else ""
        return format_html(
            '<output id="segment-count" data-count-url="{}" aria-live="polite">{}</output>'
            '<span class="help"> Active subscribers matching every criterion; updated as you edit.</span>',
            reverse("admin:newsletter_segment_count"),
            count,
        )

    @admin.display(description="Subscribers")
    def members(self, obj):
        return obj.subscriptions().count()

    @admin.display(description="Criteria")
    def criteria_summary(self, obj):
        parts = []
        topics = [t.name for t in obj.topics.all()]
        if topics:
            parts.append("chose " + " or ".join(topics))
        if obj.subscribed_since:
            parts.append(f"since {obj.subscribed_since:%-d %b %Y}")
        if obj.method:
            parts.append(obj.get_method_display().lower())
        if obj.domain:
            parts.append(f"@{obj.domain}")
        return ", ".join(parts) or "all active subscribers"
