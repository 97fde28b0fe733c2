"""The editor's review-and-send page: previews as readers will see them, the pre-send check, and the send controls.

Every view here is wrapped by admin.site.admin_view (staff only) in newsletter/editor/urls.py.
Previews use the same rendering code as the send. `send_now` is the one "Send now" screen:
the admin's "Send now…" action redirects here.
"""

import datetime

from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.contrib.admin import site as admin_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from newsletter.archive import fragments
from newsletter.editor import presend
from newsletter.editor.tasks import check_issue_links
from newsletter.markup import markdown_problems, markdown_to_html
from newsletter.models import Issue
from newsletter.models.languages import issue_in, language_name, sections_in
from newsletter.rendering import HTML_SIZE_WARNING, personalise, prepare_sections, render_issue, top_level_sections
from newsletter.sending import workflow
from newsletter.tokens import preferences_url, unsubscribe_url

MAX_TEST_ADDRESSES = 20
# The email preview is the email's own HTML (inline styles, a <style> block): it is served on
# its own, in a sandboxed frame, with a policy that allows styles and images but no script.
EMAIL_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; sandbox"


class TestSendForm(forms.Form):
    addresses = forms.CharField(
        label="Send a test to",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
        help_text="Your own address, or reviewers' addresses, one per line or separated by commas.",
    )

    def clean_addresses(self):
        addresses = [a.strip() for a in self.cleaned_data["addresses"].replace(",", "\n").splitlines() if a.strip()]
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise ValidationError(f"At most {MAX_TEST_ADDRESSES} addresses at a time.")
        for address in addresses:
            validate_email(address)
        return addresses


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="UK time.",
    )


def _issue(pk):
    return get_object_or_404(Issue.objects.select_related("newsletter", "approved_by", "send_started_by"), pk=pk)


def _require_send_permission(request):
    if not request.user.has_perm(Issue.SEND_PERMISSION):
        raise PermissionDenied("Only editors who can send issues may do this.")


def _back(issue):
    return redirect(reverse("editor:review", args=[issue.pk]))


def preview_language(issue, request):
    """The language a preview shows (?language=cy): one of the newsletter's, else its first."""
    asked = request.GET.get("language", "")
    return asked if asked in issue.newsletter.languages else issue.newsletter.languages[0]


def _sample_copy(issue, request):
    """The email as the editor would receive it, personal links included, in ?language= (a bilingual newsletter's)."""
    language = preview_language(issue, request)
    rendered = render_issue(issue, language=language)
    name = request.user.get_full_name() or request.user.get_username()
    with translation.override(language):  # the greeting and the links as that language's readers get them
        html, text = personalise(
            rendered.html,
            rendered.text,
            name=name,
            unsubscribe_url=unsubscribe_url(0, issue.newsletter_id),
            preferences_url=preferences_url(0),
        )
    return rendered, html, text


@never_cache
def review(request, pk):
    issue = _issue(pk)
    rendered, _, text = _sample_copy(issue, request)
    default_to = request.user.email or ""
    context = {
        **admin_site.each_context(request),
        "title": f"Review and send: {issue.title}",
        "issue": issue,
        "opts": Issue._meta,
        "rendered": rendered,
        "text": text,
        "findings": presend.run(issue),
        "other_languages": [(code, language_name(code)) for code in issue.newsletter.languages[1:]],
        "audience": workflow.audience_count(issue),
        "audience_languages": workflow.audience_languages(issue),
        "send_problems": workflow.can_send(issue, request.user),
        "can_send_permission": request.user.has_perm(Issue.SEND_PERMISSION),
        "test_form": TestSendForm(initial={"addresses": default_to}),
        "schedule_form": ScheduleForm(
            initial={"when": issue.scheduled_for or timezone.localtime() + datetime.timedelta(days=1)}
        ),
        # Live while it sends: admin-progress.js polls the issue page's JSON (admin/delivery.py: progress_view).
        "progress": workflow.progress(issue) if issue.send_started_at else None,
        "progress_url": reverse("admin:newsletter_issue_progress", args=[issue.pk]),
        "needs_approval": (
            issue.newsletter.requires_approval and not issue.approved_at and issue.status in Issue.APPROVABLE_STATUSES
        ),
        # An edit withdrew the approval (models/rules.py: content_changed); it needs approving again.
        "changed_since_approved": issue.approval_withdrawn_at is not None and not issue.approved_at,
    }
    return render(request, "admin/newsletter/issue/review.html", context)


@never_cache
@xframe_options_sameorigin
def email_preview(request, pk):
    issue = _issue(pk)
    _, html, _ = _sample_copy(issue, request)
    response = HttpResponse(html)
    response["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    response._csp_exempt = True  # django-csp: keep the header set here
    return response


@never_cache
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})  # framed by the review page
def web_preview(request, pk):
    """The issue's archive page, for drafts too (the public archive shows only published issues)."""
    issue = get_object_or_404(
        Issue.objects.select_related("newsletter").prefetch_related("tags"),
        pk=pk,
    )
    language = preview_language(issue, request)
    sections = sections_in(list(top_level_sections().filter(issue=issue)), language, issue.newsletter)
    issue = issue_in(issue, language)
    issue.top_sections = prepare_sections(sections)
    issue.visible_comments = list(issue.comments.visible())
    with translation.override(language):
        context = {"issue": issue, "newsletter": issue.newsletter, "preview": True}
        return render(request, "archive/issue.html", {**context, **fragments.issue_parts(context)})


@require_POST
def send_test(request, pk):
    issue = _issue(pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(issue)
    sent = workflow.send_test(issue, form.cleaned_data["addresses"])
    messages.success(request, f"Sent a test copy to {', '.join(form.cleaned_data['addresses'])} ({sent}).")
    return _back(issue)


@require_POST
def check_links(request, pk):
    issue = _issue(pk)
    transaction.on_commit(lambda: check_issue_links.delay(issue.pk))
    messages.info(request, "Checking the links. Reload this page in a minute to see the results.")
    return _back(issue)


@require_POST
def approve(request, pk):
    _require_send_permission(request)
    issue = _issue(pk)
    if not issue.newsletter.requires_approval:
        messages.info(request, "This newsletter does not ask for approval.")
        return _back(issue)
    if not Issue.objects.approve(issue.pk, by=request.user):
        messages.error(request, "Only a draft or a scheduled issue can be approved.")
        return _back(issue)
    messages.success(request, "Approved. Another editor can now send it.")
    return _back(issue)


@require_POST
def schedule(request, pk):
    _require_send_permission(request)
    issue = _issue(pk)
    form = ScheduleForm(request.POST)
    problems = workflow.can_send(issue, request.user)
    if problems:
        messages.error(request, " ".join(problems))
    elif not form.is_valid():
        messages.error(request, "Give a date and time to send it.")
    else:
        try:
            workflow.schedule(issue, form.cleaned_data["when"], user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            when = timezone.localtime(issue.scheduled_for)
            messages.success(request, f"Scheduled for {when:%A %-d %B at %H:%M}.")
    return _back(issue)


@require_POST
def cancel_schedule(request, pk):
    _require_send_permission(request)
    issue = _issue(pk)
    if workflow.cancel_schedule(issue):
        messages.success(request, "The schedule is cancelled; the issue is a draft again.")
    else:
        messages.error(request, "Sending has already started, so the schedule can no longer be cancelled.")
    return _back(issue)


def send_now(request, pk):
    """The one "Send now" screen. GET: who will receive it, a size warning, the pre-send findings, or the
    reasons it cannot be sent. POST: send. The admin's "Send now…" action redirects here."""
    _require_send_permission(request)
    issue = _issue(pk)
    problems = workflow.can_send(issue, request.user)
    if request.method == "POST" and not problems:
        try:
            workflow.start_send(issue, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Sending “{issue.title}” to {workflow.audience_count(issue)} subscribers.")
        return _back(issue)
    rendered = None if problems else render_issue(issue)
    context = {
        **admin_site.each_context(request),
        "title": f"Send “{issue.title}” now?",
        "issue": issue,
        "opts": Issue._meta,
        "audience": workflow.audience_count(issue),
        "audience_languages": workflow.audience_languages(issue),
        "problems": problems,
        "findings": [] if problems else presend.run(issue),
        "html_kb": round(rendered.html_size / 1024) if rendered else 0,
        "too_big": bool(rendered and rendered.too_big),
        "size_limit_kb": HTML_SIZE_WARNING // 1024,
    }
    return render(request, "admin/newsletter/issue/send_now.html", context)


@require_POST
def markdown_preview(request):
    """Sanitised HTML for the Markdown editor's preview, with the reasons unsafe Markdown would be refused."""
    text = request.POST.get("text", "")[:100_000]
    problems = markdown_problems(text)
    html = markdown_to_html(text)
    notes = "".join(format_html('<p class="errornote">{}</p>', p) for p in problems)
    return HttpResponse(notes + html)
