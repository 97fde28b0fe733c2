"""Send to topics: the Review and send screen where an editor chooses who gets what (newsletter.sending.editions).

GET shows the choice; "Show who gets what" (a GET, no JavaScript) states the count per edition, and only that
page offers "Yes, send" and "Schedule", which post the same choice. Wrapped by admin_view in editor/urls.py.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin import site as admin_site
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from newsletter.editor.review import ScheduleForm, _issue, _require_send_permission
from newsletter.models import Issue, Topic
from newsletter.sending import editions, workflow


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

    def __init__(self, *args, issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(newsletter_id=issue.newsletter_id)

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
    if request.method == "POST" and not problems and form.is_valid():
        mode, topics = form.cleaned_data["mode"], [t.pk for t in form.cleaned_data["topics"]]
        try:
            if request.POST.get("action") == "schedule":
                when = ScheduleForm(request.POST)
                if not when.is_valid():
                    raise ValidationError("Give a date and time to send it.")
                workflow.schedule(issue, when.cleaned_data["when"], user=request.user, mode=mode, topics=topics)
                messages.success(
                    request, f"Scheduled for {timezone.localtime(issue.scheduled_for):%A %-d %B at %H:%M}."
                )
            else:
                workflow.start_send(issue, user=request.user, mode=mode, topics=topics)
                messages.success(request, f"Sending “{issue.title}” to {workflow.audience_count(issue)} subscribers.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(reverse("editor:review", args=[issue.pk]))
    plan = None
    if data is not None and not problems and form.is_valid():
        chosen = [t.pk for t in form.cleaned_data["topics"]]
        plan = editions.preview(issue, editions.snapshot(issue, form.cleaned_data["mode"], chosen))
    context = {
        **admin_site.each_context(request),
        "title": f"Send “{issue.title}” by topic",
        "issue": issue,
        "opts": Issue._meta,
        "form": form,
        "problems": problems,
        "plan": plan,
        "cap": editions.EDITION_CAP,
        "deleted_topics": editions.deleted_topics(issue) if issue.status == Issue.Status.SCHEDULED else [],
        "schedule_form": ScheduleForm(initial={"when": issue.scheduled_for}),
    }
    return render(request, "admin/newsletter/issue/send_topics.html", context)
