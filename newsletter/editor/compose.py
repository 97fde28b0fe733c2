"""The composer: one screen in the admin where an editor writes a draft and sees it as readers will.

/admin/editor/issue/<id>/compose/ is the page (templates/admin/newsletter/issue/compose.html, with
static/newsletter/compose.js and compose.css); the rest are the JSON endpoints it calls, every one behind
the admin's login (urls.py: staff()) and every write a POST with Django's CSRF token:

  GET  …/compose/data/                the issue as JSON: subject, preheader, sections as they nest, findings
  POST …/compose/issue/               save the subject, preheader, visibility {subject, preheader, visibility, version}
  POST …/compose/section/<sid>/       save one section's fields               {heading, kind, …, topics, version}
  POST …/compose/section/<sid>/parts/ add, change, remove its links; its images' alt text (parts.py)
  POST …/compose/structure/           add, duplicate, remove, reorder          {action, …}
  POST …/compose/paste/               pasted HTML → clean Markdown (editor/paste.py)
  POST …/compose/presence/            "I have it open"; answers who else has
  GET  …/compose/preview/email/       the email, as review.email_preview, with an id on each section heading
  GET  …/compose/preview/text/        the plain-text part

A save carries the `version` the editor loaded (a digest of the fields saved, `_version`): when the row
changed since, by another editor or another door, nothing is written and the answer is 409 with the text
now stored, so the editor chooses. Saves go through Section.save() / Issue.save() and Section.clean()
(structure.py) and refuse unsafe Markdown (markup.markdown_problems), so the models' rules apply as for
every other door: an approval is withdrawn by the models' signals (models/rules.py).
"""

import datetime
import hashlib
import json
import re

from django import forms
from django.contrib.admin import site as admin_site
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from newsletter.editor import paste, presend, structure
from newsletter.editor.review import EMAIL_PREVIEW_CSP, _sample_copy
from newsletter.languages import bcp47
from newsletter.markup import markdown_problems
from newsletter.models import Issue, Section
from newsletter.models.languages import language_name

SECTION_FIELDS = (
    *("heading", "kind", "body_markdown", "source", "event_date", "event_time", "venue", "fee", "booking"),
    "topics",  # the ids of the section's topics (the newsletter's own), sorted
    # A bilingual newsletter's second language (models/languages.py), beside the first on the screen.
    *("second_heading", "second_body_markdown", "second_source", "second_venue", "second_fee", "second_booking"),
)
ISSUE_FIELDS = ("subject", "preheader", "visibility", "second_subject", "second_preheader")
MARKDOWN_FIELDS = ("body_markdown", "booking", "second_body_markdown", "second_booking")
PRESENCE_SECONDS = 60
MAX_BODY = 2_000_000


class SectionFields(forms.ModelForm):
    class Meta:
        model = Section
        fields = SECTION_FIELDS


class IssueFields(forms.ModelForm):
    visibility = forms.ChoiceField(choices=Issue.Visibility.choices)  # never blank once the issue exists

    class Meta:
        model = Issue
        fields = ISSUE_FIELDS


def _plain(value):
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _fields(obj, names):
    return {
        name: sorted(topic.pk for topic in obj.topics.all()) if name == "topics" else _plain(getattr(obj, name))
        for name in names
    }


def _version(obj, names):
    """A digest of what the composer saves: it changes whenever any door changes one of these fields."""
    return hashlib.sha256(json.dumps(_fields(obj, names), sort_keys=True).encode()).hexdigest()[:16]


def _issue(pk):
    return get_object_or_404(Issue.objects.select_related("newsletter"), pk=pk)


def _refuse_unless_writable(issue, request):
    if not request.user.has_perms(["newsletter.change_issue", "newsletter.change_section"]):
        return JsonResponse({"error": "You may read this issue but not change it."}, status=403)
    if issue.status not in Issue.APPROVABLE_STATUSES:
        label = issue.get_status_display().lower()
        return JsonResponse({"error": f"This issue is {label}: the composer edits drafts only."}, status=409)
    return None


def _json_body(request):
    if len(request.body) > MAX_BODY:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _findings(issue):
    """The pre-send findings, by section id where a finding names a section, else under "issue"."""
    sections = list(issue.sections.order_by("position", "id"))
    by_id = {s.pk: s for s in sections}
    names = {}
    for section in sections:
        label = section.heading or section.get_kind_display()
        if section.parent_id and section.parent_id in by_id:
            parent = by_id[section.parent_id]
            parent_label = parent.heading or parent.get_kind_display()
            names.setdefault(f"{parent_label} › {label}", section.pk)
        names.setdefault(label, section.pk)
    found = {"issue": []}
    for finding in presend.run(issue):
        key = names.get(finding.section) if finding.section else None
        entry = {"level": finding.level, "check": finding.check, "message": finding.message, "where": finding.where}
        found.setdefault(str(key) if key else "issue", []).append(entry)
    return found


def _section_json(section):
    return {
        "id": section.pk,
        "parent": section.parent_id,
        "position": section.position,
        "kind_label": section.get_kind_display(),
        "anchor": f"compose-{section.pk}",
        "version": _version(section, SECTION_FIELDS),
        "links": [
            {"id": link.pk, "title": link.title, "url": link.url, "version": _version(link, ("url", "title"))}
            for link in section.links.all()
        ],
        "images": [
            {"id": image.pk, "url": image.image.url, "alt": image.alt_text, "version": _version(image, ("alt_text",))}
            for image in section.images.all()
        ],
        "parts_url": reverse("editor:compose_parts", args=[section.issue_id, section.pk]),
        "change_url": reverse("admin:newsletter_section_change", args=[section.pk]),
        **_fields(section, SECTION_FIELDS),
    }


def issue_json(issue, user):
    sections = list(issue.sections.order_by("position", "id").prefetch_related("topics", "links", "images"))
    top = [_section_json(s) for s in sections if not s.parent_id]
    items = {}
    for section in sections:
        if section.parent_id:
            items.setdefault(section.parent_id, []).append(_section_json(section))
    for section in top:
        section["items"] = items.get(section["id"], [])
    newsletter = issue.newsletter
    return {
        "id": issue.pk,
        "title": issue.title,
        "status": issue.get_status_display(),
        "writable": issue.status in Issue.APPROVABLE_STATUSES,
        "sender": newsletter.sender_name or newsletter.name,
        "version": _version(issue, ISSUE_FIELDS),
        **_fields(issue, ISSUE_FIELDS),
        "topics": [{"id": topic.pk, "name": topic.name} for topic in newsletter.topics.all()],
        "languages": [
            {"code": code, "name": language_name(code), "lang": bcp47(code)} for code in newsletter.languages
        ],
        "sections": top,
        "findings": _findings(issue),
        "others": _presence(issue.pk, user),
    }


def _saved_answer(issue, obj, names):
    return JsonResponse(
        {
            "version": _version(obj, names),
            "saved_at": timezone.localtime().strftime("%H:%M"),
            "findings": _findings(issue),
            "fields": _fields(obj, names),
        }
    )


def _conflict(obj, names, yours):
    theirs = _fields(obj, names)
    return JsonResponse(
        {
            "conflict": True,
            "message": "Someone else saved this since you opened it. Nothing was overwritten: "
            "compare the two texts, then keep yours or take theirs.",
            "theirs": theirs,
            "yours": {name: yours.get(name, theirs[name]) for name in names},
            "version": _version(obj, names),
        },
        status=409,
    )


def _errors(form, extra=None):
    errors = {name: " ".join(messages) for name, messages in form.errors.items()}
    errors.update(extra or {})
    return JsonResponse({"errors": errors}, status=400)


# The page ------------------------------------------------------------------------------------------


@never_cache
def compose(request, pk):
    issue = _issue(pk)
    context = {
        **admin_site.each_context(request),
        "title": f"Compose: {issue.title}",
        "issue": issue,
        "opts": Issue._meta,
        "paste_limit": paste.MAX_PASTE_CHARS,
        "kinds": [(value, label) for value, label in Section.Kind.choices if value != Section.Kind.DIGEST_ITEM],
        "languages": [(language_name(code), bcp47(code), code) for code in issue.newsletter.languages],
        "visibilities": Issue.Visibility.choices,
    }
    return render(request, "admin/newsletter/issue/compose.html", context)


@never_cache
@require_GET
def data(request, pk):
    issue = _issue(pk)
    _note_presence(issue.pk, request.user)
    return JsonResponse(issue_json(issue, request.user))


# Saving --------------------------------------------------------------------------------------------


@require_POST
def save_issue(request, pk):
    payload = _json_body(request)
    if payload is None:
        return JsonResponse({"error": "Not a JSON object."}, status=400)
    with transaction.atomic():
        issue = get_object_or_404(Issue.objects.select_for_update().select_related("newsletter"), pk=pk)
        refused = _refuse_unless_writable(issue, request)
        if refused:
            return refused
        if payload.get("version") != _version(issue, ISSUE_FIELDS):
            return _conflict(issue, ISSUE_FIELDS, payload)
        form = IssueFields({n: payload.get(n, getattr(issue, n)) for n in ISSUE_FIELDS}, instance=issue)
        if not form.is_valid():
            return _errors(form)
        form.save()  # Issue.save(): withdraws an approval when the content changed (models/rules.py)
    return _saved_answer(issue, issue, ISSUE_FIELDS)


@require_POST
def save_section(request, pk, section_id):
    payload = _json_body(request)
    if payload is None:
        return JsonResponse({"error": "Not a JSON object."}, status=400)
    with transaction.atomic():
        issue = _issue(pk)
        refused = _refuse_unless_writable(issue, request)
        if refused:
            return refused
        section = get_object_or_404(Section.objects.select_for_update(), pk=section_id, issue=issue)
        if payload.get("version") != _version(section, SECTION_FIELDS):
            return _conflict(section, SECTION_FIELDS, payload)
        stored = _fields(section, SECTION_FIELDS)
        values = {n: payload.get(n, stored[n]) for n in SECTION_FIELDS}
        if section.parent_id:
            values["kind"] = Section.Kind.DIGEST_ITEM  # an item stays an item (move it out on "All fields")
        elif values["kind"] == Section.Kind.DIGEST_ITEM:
            values["kind"] = section.kind
        form = SectionFields(values, instance=section)
        form.fields["topics"].queryset = issue.newsletter.topics.all()
        unsafe = {}
        for name in MARKDOWN_FIELDS:
            problems = markdown_problems(str(values.get(name) or ""))
            if problems:
                unsafe[name] = " ".join(problems) + " Remove it; it would not reach readers."
        if not form.is_valid() or unsafe:
            return _errors(form, unsafe)
        kind_changed = form.cleaned_data["kind"] != Section.Kind.DIGEST
        if section.kind == Section.Kind.DIGEST and kind_changed and section.items.exists():
            return JsonResponse({"errors": {"kind": "A digest group with items stays a digest group."}}, 400)
        form.save()  # Section.save(), its signals (an approval withdrawn, models/rules.py), then its topics
    issue.rebuild_search_text()
    return _saved_answer(issue, section, SECTION_FIELDS)


@require_POST
def change_structure(request, pk):
    payload = _json_body(request)
    if payload is None:
        return JsonResponse({"error": "Not a JSON object."}, status=400)
    issue = _issue(pk)
    refused = _refuse_unless_writable(issue, request)
    if refused:
        return refused
    needs = {"add": "add_section", "duplicate": "add_section", "remove": "delete_section"}.get(payload.get("action"))
    if needs and not request.user.has_perm(f"newsletter.{needs}"):
        return JsonResponse({"error": "You may not add or remove sections."}, status=403)
    try:
        with transaction.atomic():
            selected = structure.apply(issue, payload)
    except structure.StructureError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    issue.rebuild_search_text()
    return JsonResponse({**issue_json(issue, request.user), "selected": selected})


@require_POST
def convert_paste(request, pk):
    _issue(pk)
    html = request.POST.get("html", "")
    try:
        result = paste.convert(html)
    except paste.PasteRefused as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"markdown": result.markdown, "notes": result.notes, "ms": round(result.seconds * 1000)})


# Who else has it open ----------------------------------------------------------------------------------


def _presence_key(pk):
    return f"compose-presence-{pk}"


def _note_presence(pk, user):
    now = timezone.now().timestamp()
    seen = {k: v for k, v in cache.get(_presence_key(pk), {}).items() if now - v["seen"] < PRESENCE_SECONDS}
    mine = seen.get(str(user.pk))
    seen[str(user.pk)] = {
        "name": user.get_full_name() or user.get_username(),
        "since": mine["since"] if mine else now,
        "seen": now,
    }
    cache.set(_presence_key(pk), seen, PRESENCE_SECONDS * 2)


def _presence(pk, user):
    now = timezone.now().timestamp()
    others = []
    for user_id, entry in cache.get(_presence_key(pk), {}).items():
        if user_id != str(user.pk) and now - entry["seen"] < PRESENCE_SECONDS:
            since = timezone.localtime(datetime.datetime.fromtimestamp(entry["since"], tz=datetime.UTC))
            others.append({"name": entry["name"], "since": since.strftime("%H:%M")})
    return others


@require_POST
def presence(request, pk):
    issue = _issue(pk)
    _note_presence(issue.pk, request.user)
    return JsonResponse({"others": _presence(issue.pk, request.user)})


# Previews: the sending code's own rendering ----------------------------------------------------------------


def _with_section_ids(html, issue):
    """The email with id="compose-<section id>" on each section's heading, so the frame scrolls to it by its
    URL's fragment (the frame runs no script). The headings are found in reading order, as the email has them."""
    sections = list(issue.sections.filter(parent=None).order_by("position", "id").prefetch_related("items"))
    start = 0
    for section in sections:
        parts = [("h2", section)] + [("h3", item) for item in section.items.order_by("position", "id")]
        for tag, part in parts:
            label = part.heading or ("" if tag == "h3" else None)
            text = re.escape(escape(label)) if label else r"[^<]*"
            match = re.compile(rf"<{tag}(?=[\s>])[^>]*>{text}</{tag}>").search(html, start)
            if not match:
                continue
            at = match.start() + len(tag) + 1  # just after "<h2", before the inliner's style attribute
            html = html[:at] + f' id="compose-{part.pk}"' + html[at:]
            start = match.end()
    return html


@never_cache
@xframe_options_sameorigin
def email_preview(request, pk):
    issue = _issue(pk)
    _, html, _ = _sample_copy(issue, request)
    response = HttpResponse(_with_section_ids(html, issue))
    response["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    response._csp_exempt = True  # django-csp: keep the header set here
    return response


@never_cache
def text_preview(request, pk):
    issue = _issue(pk)
    _, _, text = _sample_copy(issue, request)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
