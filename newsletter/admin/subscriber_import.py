"""Admin → Subscribers → Import CSV. A file with our own header (email,name,newsletters,consent) imports at once;
any other goes to a mapping step: a known tool's export (Mailchimp, Substack, listmonk) already mapped, any other
CSV with a column for email, name, consent date and status to choose; both show a preview of the first rows as
they would be read, and import only when the editor says so. The upload waits in VAR_DIR/subscriber-imports/ for
at most a day, named by a random token that travels signed with the editor's id."""

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.template.response import TemplateResponse

from newsletter.subscribers import csvio, formats
from newsletter.subscribers.forms import ImportForm, MappingForm

UPLOAD_SALT = "newsletter.admin.subscriber-import"
UPLOAD_MAX_AGE = 24 * 3600


def _folder():
    folder = Path(settings.VAR_DIR) / "subscriber-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(upload, user):
    """Keep the upload for the mapping step (older leftovers are removed); return its signed token."""
    folder, now = _folder(), time.time()
    for old in folder.glob("*.csv"):
        if now - old.stat().st_mtime > UPLOAD_MAX_AGE:
            old.unlink(missing_ok=True)
    name = secrets.token_urlsafe(18)
    with (folder / f"{name}.csv").open("wb") as f:
        for chunk in upload.chunks():
            f.write(chunk)
    return signing.dumps({"f": name, "u": user.pk}, salt=UPLOAD_SALT)


def _stored(token, user):
    try:
        data = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("u") != user.pk:
        return None
    path = _folder() / f"{data['f']}.csv"
    return path if path.is_file() else None


def import_view(model_admin, request):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Import subscribers from CSV",
        "opts": model_admin.model._meta,
    }
    if request.method == "POST" and "upload" in request.POST:
        return _mapping_step(request, context)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = error = None
    if request.method == "POST" and form.is_valid():
        upload, limit = form.cleaned_data["file"], csvio.max_import_bytes()
        try:
            if upload.size > limit:
                raise csvio.ImportFileError(
                    f"The file is too large ({upload.size:,} bytes; the limit is {limit:,}, "
                    "set by SUBSCRIBER_IMPORT_MAX_BYTES)."
                )
            header = formats.read_header(upload.file)
            if csvio.is_ours(header):
                report = csvio.import_csv(
                    upload.file, send_confirmations=form.cleaned_data["send_confirmations"], editor=request.user
                )
            else:
                token = _store(upload, request.user)
                initial = {
                    "upload": token,
                    "newsletters": form.cleaned_data["newsletters"],
                    "send_confirmations": form.cleaned_data["send_confirmations"],
                    "source": "another tool",
                    **formats.guess(header),
                }
                return _render_mapping(request, context, _stored(token, request.user), initial=initial)
        except (csvio.ImportFileError, formats.MappingError) as exc:
            error = str(exc)
    return TemplateResponse(
        request,
        "admin/newsletter/subscriber/import.html",
        {**context, "form": form, "report": report, "error": error},
    )


def _mapping_step(request, context):
    path = _stored(request.POST["upload"], request.user)
    if path is None:
        return TemplateResponse(
            request,
            "admin/newsletter/subscriber/import.html",
            {
                **context,
                "form": ImportForm(),
                "error": "That upload has expired or is not yours: choose the file again.",
            },
        )
    return _render_mapping(request, context, path, data=request.POST)


def _render_mapping(request, context, path, data=None, initial=None):
    error, rows, mapping = "", [], None
    with path.open("rb") as stream:
        header = formats.read_header(stream)
        known = formats.recognise(header)
        form = MappingForm(data, initial=initial, header=header, known=bool(known))
        try:
            if known:
                mapping = known
            elif data is not None and form.is_valid():
                mapping = formats.from_choices(form.choices(), form.cleaned_data["source"])
            elif data is None and initial.get("email"):
                mapping = formats.from_choices({k: initial.get(k) for k in MappingForm.COLUMN_FIELDS})
            if mapping:
                mapping.check(header)
                rows = formats.preview(stream, mapping)
            if mapping and data is not None and data.get("action") == "import" and form.is_valid():
                report = csvio.import_csv(
                    stream,
                    mapping=mapping,
                    newsletters=list(form.cleaned_data["newsletters"]),
                    send_confirmations=form.cleaned_data["send_confirmations"],
                    editor=request.user,
                )
                path.unlink(missing_ok=True)
                return TemplateResponse(
                    request,
                    "admin/newsletter/subscriber/import.html",
                    {**context, "form": ImportForm(), "report": report, "source": mapping.label},
                )
        except (csvio.ImportFileError, formats.MappingError) as exc:
            error = str(exc)
    missing = [c for c in csvio.CSV_COLUMNS if c not in [h.lower() for h in header]]
    return TemplateResponse(
        request,
        "admin/newsletter/subscriber/import_mapping.html",
        {
            **context,
            "title": "Import subscribers: which column is which",
            "form": form,
            "known": known,
            "header": header,
            "missing": ", ".join(missing),
            "rows": rows,
            "error": error,
        },
    )
