"""Send to topics: the Review and send screen where an editor chooses who gets what (newsletter.sending.editions).

GET shows the choice; "Show who gets what" (a GET, no JavaScript) states the count per edition, and only that
page offers "Yes, send" and "Schedule", which post the same choice. A segment (Admin → Segments) narrows any
choice to its members, and can receive a test (at most SEGMENT_TEST_LIMIT addresses, touching no Delivery).
Wrapped by admin_view in editor/urls.py.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin import site as admin_site
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from newsletter.editor.review import ScheduleForm, _issue, _require_send_permission
from newsletter.models import Issue, Topic
from newsletter.models.topics import Segment
from newsletter.sending import editions, workflow

SEGMENT_TEST_LIMIT = 50


class TopicSendForm(forms.Form):
    mode = forms.ChoiceField(
        label="Who gets what", choices=list(editions.MODES.items()), widget=forms.RadioSelect, initial=editions.ALL
    )
    topics = forms.ModelMultipleChoiceField(
        label="Topics",
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For “chose one of these topics”: subscribers who chose none (everything) are included.",
    )
    segment = forms.ModelChoiceField(
        label="Only this segment",
        queryset=Segment.objects.none(),
        required=False,
        empty_label="Everyone (no segment)",
        help_text="Narrows any choice above to the segment's members (Admin → Segments).",
    )

    def __init__(self, *args, issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(newsletter_id=issue.newsletter_id)
        self.fields["segment"].queryset = Segment.objects.filter(newsletter_id=issue.newsletter_id)

    def clean(self):
        data = super().clean()
        if data.get("mode") == editions.TOPICS and not data.get("topics"):
            self.add_error("topics", "Choose at least one topic to send to.")
        return data


def send_topics(request, pk):
    _require_send_permission(request)
    issue = _issue(pk)
    problems = workflow.can_send(issue, request.user)
    data = request.POST if request.method == "POST" else (request.GET if "mode" in request.GET else None)
    form = TopicSendForm(data, issue=issue)
    if request.method == "POST" and request.POST.get("action") == "test" and form.is_valid():
        _test_segment(request, issue, form.cleaned_data["segment"])
        kept = QueryDict(mutable=True)
        kept.setlist("topics", request.POST.getlist("topics"))
        kept.update({"mode": request.POST.get("mode", ""), "segment": request.POST.get("segment", "")})
        return redirect(f"{request.path}?{kept.urlencode()}")
    if request.method == "POST" and not problems and form.is_valid():
        mode, topics = form.cleaned_data["mode"], [t.pk for t in form.cleaned_data["topics"]]
        segment = form.cleaned_data["segment"]
        try:
            if request.POST.get("action") == "schedule":
                when = ScheduleForm(request.POST)
                if not when.is_valid():
                    raise ValidationError("Give a date and time to send it.")
                workflow.schedule(
                    issue, when.cleaned_data["when"], user=request.user, mode=mode, topics=topics, segment=segment
                )
                messages.success(
                    request, f"Scheduled for {timezone.localtime(issue.scheduled_for):%A %-d %B at %H:%M}."
                )
            else:
                workflow.start_send(issue, user=request.user, mode=mode, topics=topics, segment=segment)
                messages.success(request, f"Sending “{issue.title}” to {workflow.audience_count(issue)} subscribers.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(reverse("editor:review", args=[issue.pk]))
    plan = None
    if data is not None and not problems and form.is_valid():
        chosen = [t.pk for t in form.cleaned_data["topics"]]
        frozen = editions.snapshot(issue, form.cleaned_data["mode"], chosen, form.cleaned_data["segment"])
        plan = editions.preview(issue, frozen)
    context = {
        **admin_site.each_context(request),
        "title": f"Send “{issue.title}” by topic",
        "issue": issue,
        "opts": Issue._meta,
        "form": form,
        "problems": problems,
        "plan": plan,
        "cap": editions.EDITION_CAP,
        "segment_test_limit": SEGMENT_TEST_LIMIT,
        "deleted_topics": editions.deleted_topics(issue) if issue.status == Issue.Status.SCHEDULED else [],
        "schedule_form": ScheduleForm(initial={"when": issue.scheduled_for}),
    }
    return render(request, "admin/newsletter/issue/send_topics.html", context)


def _test_segment(request, issue, segment):
    """A test copy to each member of the segment, when there are at most SEGMENT_TEST_LIMIT."""
    if segment is None:
        messages.error(request, "Choose a segment to send a test to.")
        return
    addresses = list(segment.subscriptions().order_by("subscriber__email").values_list("subscriber__email", flat=True))
    if not addresses:
        messages.error(request, f"Nobody is in “{segment.name}” now.")
    elif len(addresses) > SEGMENT_TEST_LIMIT:
        messages.error(
            request, f"“{segment.name}” has {len(addresses)} members: a test goes to at most {SEGMENT_TEST_LIMIT}."
        )
    else:
        sent = workflow.send_test(issue, addresses)
        messages.success(request, f"Test sent to the {sent} member{'s' if sent != 1 else ''} of “{segment.name}”.")
