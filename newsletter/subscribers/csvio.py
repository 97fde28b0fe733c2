"""Subscribers in and out as CSV (email,name,newsletters,consent): streamed in batches, never the whole file.

Every row goes through the same address rule and suppression list as the forms; a row the
importer refuses is reported with its line number and reason, and a file it cannot read at
all (too large, not CSV, a header neither ours nor a known tool's and no mapping) changes nothing:
the whole file is read once as CSV before anything is written. Exports of other tools (Mailchimp,
Substack, listmonk) and any CSV with a column mapping come in through `formats`.
"""

import csv
import dataclasses
import functools
import io
import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletter.addresses import (  # noqa: F401
    CONTROL_CHARACTERS,
    MAX_ADDRESS_LENGTH,
    MAX_NAME_LENGTH,
    InvalidInput,
    clean_line,
    display_address,
    normalise_address,
)
from newsletter.models import Newsletter, Subscriber, Subscription, Suppression, email_hash
from newsletter.subscribers import formats
from newsletter.subscribers.confirmations import request_confirmation
from newsletter.subscribers.lifecycle import (
    LEFT,
    editor_consent_text,
    record_consent,
    record_left_elsewhere,
    suppress_strangers,
)

CSV_COLUMNS = ("email", "name", "newsletters", "consent")
IMPORT_BATCH = 1000
MAX_REPORTED_REJECTS = 10_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Anything larger is refused before a row is read (setting SUBSCRIBER_IMPORT_MAX_BYTES); 64 MiB is ~500,000 rows.
DEFAULT_MAX_IMPORT_BYTES = 64 * 1024 * 1024


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported (its header is wrong); nothing was written."""


@dataclasses.dataclass
class Rejected:
    line: int
    email: str
    reason: str


@dataclasses.dataclass
class ImportReport:
    rows: int = 0
    created_subscribers: int = 0
    activated: int = 0
    pending: int = 0
    unchanged: int = 0
    confirmations_queued: int = 0
    suppressed: int = 0
    rejected_count: int = 0
    rejected: list = dataclasses.field(default_factory=list)  # the first MAX_REPORTED_REJECTS

    def reject(self, line, email, reason):
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED_REJECTS:
            self.rejected.append(Rejected(line, email, reason))

    @property
    def imported(self):
        return self.rows - self.rejected_count

    def summary(self):
        return (
            f"{self.rows} rows: {self.activated} subscriptions activated, {self.pending} pending confirmation, "
            f"{self.unchanged} already there, {self.rejected_count} rows rejected; "
            f"{self.created_subscribers} new subscribers; {self.confirmations_queued} confirmation emails queued."
            + (
                f" {self.suppressed} addresses that left the old tool are on the suppression list."
                if self.suppressed
                else ""
            )
        )


@dataclasses.dataclass
class _Row:
    line: int
    email: str
    name: str
    slugs: list
    status: str  # formats.SUBSCRIBED, PENDING, UNSUBSCRIBED or BOUNCED
    consent_text: str = ""
    consent_at: object = None  # when the old tool recorded the consent; None: now


def _unformula(value):
    """Undo the apostrophe export_csv puts before a cell that a spreadsheet would run as a formula."""
    if value.startswith("'") and value[1:2] and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _parse_row(line, record, newsletters):
    """A validated _Row, or InvalidInput with the reason."""
    if None in record or any(record.get(c) is None for c in CSV_COLUMNS):
        raise InvalidInput(f"expected {len(CSV_COLUMNS)} fields ({','.join(CSV_COLUMNS)})")
    if any("\ufffd" in (v or "") for v in record.values() if isinstance(v, str)):
        raise InvalidInput("the row is not valid UTF-8 text")
    email = normalise_address(_unformula(record["email"]))
    name = clean_line(_unformula(record["name"]))
    slugs = [s.strip() for s in record["newsletters"].split(";") if s.strip()]
    if CONTROL_CHARACTERS.search(record["newsletters"]):
        raise InvalidInput("newsletters must be on one line")
    if not slugs:
        raise InvalidInput("no newsletter given")
    unknown = [s for s in slugs if s not in newsletters]
    if unknown:
        raise InvalidInput(f"unknown newsletter: {', '.join(unknown)}")
    consent = record["consent"].strip().lower()
    if consent not in ("yes", "no"):
        raise InvalidInput(f"consent must be yes or no, not “{record['consent'][:20]}”")
    status = formats.SUBSCRIBED if consent == "yes" else formats.PENDING
    return _Row(line, email, name, list(dict.fromkeys(slugs)), status)


def _parse_mapped_row(line, record, mapping, slugs, consent_text):
    """A validated _Row from a mapped file (another tool's export), or InvalidInput with the reason."""
    if any("\ufffd" in v for v in record.values() if isinstance(v, str)):
        raise InvalidInput("the row is not valid UTF-8 text")
    try:
        mapped = mapping.apply(record)
    except formats.RowError as exc:
        raise InvalidInput(str(exc)) from exc
    email = normalise_address(_unformula(mapped.email))
    name = clean_line(_unformula(mapped.name))
    text = consent_text
    if mapped.consent_at:
        text = f"{consent_text}; consent recorded there on {mapped.consent_at:%Y-%m-%d %H:%M} UTC"
    return _Row(line, email, name, slugs, mapped.status, text, mapped.consent_at)


def is_ours(header):
    """Whether a header row is this product's own (email,name,newsletters,consent, any case, extra columns)."""
    lower = [h.strip().lower() for h in header]
    return all(c in lower for c in CSV_COLUMNS)


def max_import_bytes():
    return getattr(settings, "SUBSCRIBER_IMPORT_MAX_BYTES", None) or DEFAULT_MAX_IMPORT_BYTES


def _size(stream):
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end
    except (AttributeError, OSError, ValueError):
        return 0


def _check_file(stream):
    """Refuse a file that is too large or stops being CSV before a row is written (one linear pass)."""
    size, limit = _size(stream), max_import_bytes()
    if size > limit:
        raise ImportFileError(
            f"The file is too large ({size:,} bytes; the limit is {limit:,}, set by SUBSCRIBER_IMPORT_MAX_BYTES). "
            "Split it, or import it with the import_subscribers command after raising the limit."
        )
    try:
        formats.read_header(stream)
    except formats.MappingError as exc:
        raise ImportFileError(str(exc)) from exc
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} is not valid CSV ({exc}); nothing was imported.") from exc
    finally:
        text.detach()
    stream.seek(0)


def import_csv(stream, send_confirmations=False, editor=None, progress=None, mapping=None, newsletters=None):
    """Import subscribers from a CSV file (a binary stream): our header email,name,newsletters,consent, another
    tool's export recognised by its header (formats.recognise), or any CSV read through `mapping`.

    Streams the file and works in batches of IMPORT_BATCH rows, each in its own
    transaction, so memory stays flat however long the file is; a file too large or not
    CSV is refused before anything is written. Every row is
    checked first; a rejected row writes nothing and is reported with its line
    number and reason. Rows are applied idempotently: an address is one subscriber
    and one subscription per newsletter, so running the same file twice changes
    nothing the second time. `consent` yes makes a subscription active (the editor
    vouches for it), no leaves it pending; pending ones are mailed a confirmation
    only with send_confirmations. Suppressed or unsubscribed addresses are rejected.
    Extra columns (as export_csv writes) are ignored.

    Another tool's rows join `newsletters` (required then): subscribed ones active with the old tool's consent
    ("Imported from Mailchimp", its date), unconfirmed ones pending, and those that unsubscribed or bounced
    there go onto the suppression list (lifecycle.record_left_elsewhere), never active.

    progress, if given, is called with the number of bytes read so far after each batch.
    """
    _check_file(stream)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text)
    written = formats.clean_header(reader.fieldnames)
    header = [h.lower() for h in written]
    all_newsletters = {n.slug: n for n in Newsletter.objects.all()}
    if mapping is None and not all(c in header for c in CSV_COLUMNS):
        mapping = formats.recognise(written)
        if mapping is None:
            text.detach()
            missing = [c for c in CSV_COLUMNS if c not in header]
            raise ImportFileError(
                f"The first row must be the header {','.join(CSV_COLUMNS)}; missing: {', '.join(missing)}. "
                "It is not an export we recognise (Mailchimp, Substack, listmonk) either: map its columns "
                "(the admin's mapping step, or import_subscribers --map email=COLUMN,name=COLUMN,…)."
            )
    parse = functools.partial(_parse_row, newsletters=all_newsletters)
    if mapping is not None:
        try:
            mapping.check(written)
        except formats.MappingError as exc:
            text.detach()
            raise ImportFileError(str(exc)) from exc
        chosen = list(newsletters or ())
        if not chosen:
            text.detach()
            raise ImportFileError(f"Choose the newsletter(s) the subscribers of {mapping.label} join.")
        slugs = [n.slug for n in chosen]
        consent_text = f"Imported from {mapping.source}" + (f" by {editor.get_username()}" if editor else "")
        parse = functools.partial(_parse_mapped_row, mapping=mapping, slugs=slugs, consent_text=consent_text)
        reader.fieldnames = written
    else:
        reader.fieldnames = header
    report = ImportReport()
    batch = {}  # address -> _Row
    consent_text = editor_consent_text(editor)
    try:
        for record in reader:
            report.rows += 1
            try:
                row = parse(reader.line_num, record)
            except InvalidInput as exc:
                email = record.get(mapping.email if mapping else "email") or ""
                report.reject(reader.line_num, email[:MAX_ADDRESS_LENGTH], str(exc))
                continue
            # An address seen again in this batch: write the batch first, so the repeat meets it in the database.
            if len(batch) >= IMPORT_BATCH or row.email in batch:
                _import_batch(list(batch.values()), all_newsletters, consent_text, send_confirmations, report)
                batch = {}
                if progress:
                    progress(_bytes_read(stream))
            batch[row.email] = row
        if batch:
            _import_batch(list(batch.values()), all_newsletters, consent_text, send_confirmations, report)
    except csv.Error as exc:  # checked before; only a file changed while it was read gets here
        report.reject(reader.line_num, "", f"the file stops being valid CSV here ({exc}); the rest was not read")
    if progress:
        progress(_bytes_read(stream))
    text.detach()
    return report


def _bytes_read(stream):
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


@transaction.atomic
def _import_batch(rows, newsletters, consent_text, send_confirmations, report):
    now = timezone.now()
    leaving = [row for row in rows if row.status in formats.LEAVING]
    if leaving:
        known = set(Subscriber.objects.filter(email__in=[r.email for r in leaving]).values_list("email", flat=True))
        strangers = [(r.email, r.status == formats.BOUNCED) for r in leaving if r.email not in known]
        report.suppressed += suppress_strangers(strangers) if strangers else 0
        for row in (r for r in leaving if r.email in known):
            bounced = row.status == formats.BOUNCED
            note = f"{row.consent_text.split(';')[0]}: {'bounced' if bounced else 'unsubscribed'} there"
            chosen = [newsletters[slug] for slug in row.slugs]
            report.suppressed += record_left_elsewhere(row.email, chosen, bounced=bounced, note=note, now=now)
        rows = [row for row in rows if row.status not in formats.LEAVING]
    by_email = {row.email: row for row in rows}
    emails = list(by_email)
    suppressed = set(
        Suppression.objects.filter(email_hash__in=[email_hash(e) for e in emails]).values_list("email_hash", flat=True)
    )
    subscribers = {s.email: s for s in Subscriber.objects.filter(email__in=emails)}
    existing = {}
    if subscribers:
        for subscription in Subscription.objects.select_for_update().filter(
            subscriber__in=subscribers.values(), newsletter__in=newsletters.values()
        ):
            existing[(subscription.subscriber_id, subscription.newsletter_id)] = subscription

    # Decide every row before writing anything.
    accepted = []
    for row in by_email.values():
        subscriber = subscribers.get(row.email)
        is_suppressed = email_hash(row.email) in suppressed
        reason = None
        for slug in row.slugs:
            current = existing.get((subscriber.pk, newsletters[slug].pk)) if subscriber else None
            if current and current.status in LEFT:
                reason = f"left {slug} ({current.get_status_display().lower()}); only they can re-join"
                break
            if is_suppressed and not (current and current.status == Subscription.Status.ACTIVE):
                reason = "this address unsubscribed or was erased; only they can subscribe again, on the site"
                break
        if reason:
            report.reject(row.line, row.email, reason)
        else:
            accepted.append(row)

    new = [Subscriber(email=r.email, name=r.name) for r in accepted if r.email not in subscribers]
    if new:
        Subscriber.objects.bulk_create(new, ignore_conflicts=True)
        report.created_subscribers += len(new)
        subscribers.update({s.email: s for s in Subscriber.objects.filter(email__in=[s.email for s in new])})
    renamed = []
    for row in accepted:
        subscriber = subscribers[row.email]
        if row.name and not subscriber.name:
            subscriber.name = row.name
            renamed.append(subscriber)
    if renamed:
        Subscriber.objects.bulk_update(renamed, ["name"])

    to_create, to_activate, needs_confirmation = [], [], set()
    for row in accepted:
        subscriber = subscribers[row.email]
        for slug in row.slugs:
            newsletter = newsletters[slug]
            current = existing.get((subscriber.pk, newsletter.pk))
            active = row.status == formats.SUBSCRIBED
            text = row.consent_text or consent_text
            if current is None:
                subscription = Subscription(subscriber=subscriber, newsletter=newsletter)
                record_consent(subscription, Subscription.Method.IMPORT, text if active else "", row.consent_at or now)
                if active:
                    subscription.activate()
                    report.activated += 1
                else:
                    subscription.consented_at = None
                    report.pending += 1
                    needs_confirmation.add(subscriber.pk)
                to_create.append(subscription)
            elif current.status == Subscription.Status.PENDING and active:
                record_consent(current, Subscription.Method.IMPORT, text, row.consent_at or now)
                current.activate()
                to_activate.append(current)
                report.activated += 1
            else:
                report.unchanged += 1
                if current.status == Subscription.Status.PENDING:
                    needs_confirmation.add(subscriber.pk)
    if to_create:
        Subscription.objects.bulk_create(to_create, ignore_conflicts=True)
    if to_activate:
        Subscription.objects.bulk_update(
            to_activate,
            ["status", "method", "consent_text", "privacy_notice_version", "consented_at", "confirmed_at"],
        )
    if send_confirmations:
        for subscriber in Subscriber.objects.filter(pk__in=needs_confirmation):
            report.confirmations_queued += request_confirmation(subscriber).on_its_way


def _cell(value):
    value = str(value or "")
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def export_csv(newsletter=None, status=None):
    """CSV lines (strings), header first: one row per subscription, oldest subscriber first.

    The first four columns are import_csv's, so an export can be imported again.
    Cells a spreadsheet would run as a formula get a leading apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values):
        writer.writerow(values)
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    yield line([*CSV_COLUMNS, "status", "method", "consented_at", "confirmed_at", "unsubscribed_at"])
    subscriptions = Subscription.objects.select_related("subscriber", "newsletter").order_by("subscriber__email", "id")
    if newsletter is not None:
        subscriptions = subscriptions.filter(newsletter=newsletter)
    if status:
        subscriptions = subscriptions.filter(status=status)
    for s in subscriptions.iterator(chunk_size=2000):
        yield line(
            [
                _cell(s.subscriber.email),
                _cell(s.subscriber.name),
                s.newsletter.slug,
                "yes" if s.status == Subscription.Status.ACTIVE else "no",
                s.status,
                s.method,
                s.consented_at.isoformat() if s.consented_at else "",
                s.confirmed_at.isoformat() if s.confirmed_at else "",
                s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
            ]
        )
