"""The composer's links and images of a section: add, change and remove a link; change an image's alt text.

POST …/compose/section/<sid>/parts/ with {action, …}, behind the admin's login (urls.py: staff()) and Django's
CSRF token, answered with the section's links and images as the composer shows them (compose._section_json):

  {action: "add-link", url, title}               a link at the end of the section's links
  {action: "save-link", id, url, title, version} a link changed
  {action: "remove-link", id, version}           a link removed
  {action: "save-image", id, alt, version}       an image's alt text (images are uploaded on the section's page)

Each change carries the `version` of the link or image the editor loaded (compose._version of its fields):
when it changed since, nothing is written and the answer is 409 with what is stored now. Every write goes
through a ModelForm (a link's URL: http, https or mailto only) and Link.save() / SectionImage.save() / delete(),
so the models' signals withdraw an approval and record a revision (models/sections.py, models/revisions.py).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Max
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from newsletter.editor.compose import (
    _findings,
    _issue,
    _json_body,
    _refuse_unless_writable,
    _section_json,
    _version,
)
from newsletter.models import Link, Section, SectionImage

LINK_FIELDS = ("url", "title")
IMAGE_FIELDS = ("alt_text",)
_WEB_URL = URLValidator(schemes=["http", "https"])


def safe_url(value):
    """A link readers can follow: http(s) or mailto; nothing else (javascript:, data:, ftp:, file:)."""
    if value.lower().startswith("mailto:"):
        address = value[len("mailto:") :].split("?", 1)[0]
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError("A mailto: link needs an email address, like mailto:news@example.org.") from None
        return
    try:
        _WEB_URL(value)
    except ValidationError:
        raise ValidationError("Enter a web address starting https:// or http://, or a mailto: address.") from None


class LinkFields(forms.ModelForm):
    url = forms.CharField(label="URL", max_length=1000, validators=[safe_url], strip=True)

    class Meta:
        model = Link
        fields = LINK_FIELDS

    def _get_validation_exclusions(self):
        # The form's own rule (safe_url) replaces the model URLField's, which would refuse mailto: links.
        return super()._get_validation_exclusions() | {"url"}


class ImageFields(forms.ModelForm):
    class Meta:
        model = SectionImage
        fields = IMAGE_FIELDS


def _answer(issue, section, status=200, **extra):
    section = Section.objects.prefetch_related("topics", "links", "images").get(pk=section.pk)
    part = _section_json(section)
    body = {"links": part["links"], "images": part["images"], "findings": _findings(issue), **extra}
    return JsonResponse(body, status=status)


def _errors(form):
    return {name: " ".join(messages) for name, messages in form.errors.items()}


def _stale(issue, section):
    return _answer(
        issue,
        section,
        status=409,
        error="Someone else changed this section's links or images since you opened it; they are shown as saved now.",
    )


@require_POST
def change_parts(request, pk, section_id):
    payload = _json_body(request)
    if payload is None:
        return JsonResponse({"error": "Not a JSON object."}, status=400)
    action = payload.get("action")
    with transaction.atomic():
        issue = _issue(pk)
        refused = _refuse_unless_writable(issue, request)
        if refused:
            return refused
        section = get_object_or_404(Section.objects.select_for_update(), pk=section_id, issue=issue)
        if action == "add-link":
            link = Link(section=section)
            form = LinkFields({n: str(payload.get(n) or "") for n in LINK_FIELDS}, instance=link)
            if not form.is_valid():
                return JsonResponse({"errors": _errors(form)}, status=400)
            link.position = (section.links.aggregate(last=Max("position"))["last"] or 0) + 1
            form.save()
        elif action in ("save-link", "remove-link"):
            link = section.links.select_for_update().filter(pk=_int(payload.get("id"))).first()
            if link is None or payload.get("version") != _version(link, LINK_FIELDS):
                return _stale(issue, section)
            if action == "remove-link":
                link.delete()
            else:
                form = LinkFields({n: str(payload.get(n) or "") for n in LINK_FIELDS}, instance=link)
                if not form.is_valid():
                    return JsonResponse({"errors": _errors(form)}, status=400)
                form.save()
        elif action == "save-image":
            image = section.images.select_for_update().filter(pk=_int(payload.get("id"))).first()
            if image is None or payload.get("version") != _version(image, IMAGE_FIELDS):
                return _stale(issue, section)
            form = ImageFields({"alt_text": str(payload.get("alt") or "")}, instance=image)
            if not form.is_valid():
                return JsonResponse({"errors": {"alt": " ".join(form.errors["alt_text"])}}, status=400)
            form.save()
        else:
            return JsonResponse({"error": "Unknown change."}, status=400)
    issue.rebuild_search_text()
    return _answer(issue, section)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
