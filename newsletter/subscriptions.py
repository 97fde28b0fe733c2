"""Subscribing, confirming, changing and leaving a list: plain functions used by the views, admin and commands.

Rules every function here keeps:

- An address is stored normalised (`normalise_address`): trimmed, lower case, its domain in
  ASCII (IDNA), so "Ann@Bücher.de" and "ann@xn--bcher-kva.de" are one subscriber.
- A subscription becomes active only by the person's own confirmation, or by an editor who
  records that consent was given. Unsubscribed and erased addresses go on the hashed
  suppression list; an import or an editor never re-activates them: only the person's new
  confirmation does (and it lifts the suppression).
- Nothing a stranger sends changes what is stored about an existing subscriber: a name sent for a
  known address travels only in the confirmation link, and confirm() applies it.
- Unsubscribing is one compare-and-set UPDATE of the status, so it holds for every later send.
- Confirmation mails go out from a Celery task after the transaction commits, at most one per
  address per CONFIRMATION_MIN_INTERVAL (claimed with a compare-and-set on
  Subscriber.last_confirmation_sent_at).
"""

import csv
import dataclasses
import datetime
import io

from django.conf import settings
from django.db import transaction
from django.db.models import Q
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

LEFT = (Subscription.Status.UNSUBSCRIBED, Subscription.Status.BOUNCED)
RECEIVING = (Subscription.Status.ACTIVE, Subscription.Status.PENDING)


def newsletters_by_slug(slugs):
    """Newsletters for the given slugs, in the given order; InvalidInput names any unknown slug."""
    slugs = [s.strip() for s in slugs if s and s.strip()]
    if not slugs:
        raise InvalidInput("Choose at least one newsletter.")
    found = {n.slug: n for n in Newsletter.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise InvalidInput(f"Unknown newsletter: {', '.join(unknown)}.")
    return list(dict.fromkeys(found[s] for s in slugs))


# Consent ------------------------------------------------------------------------------


def _record_consent(subscription, method, text, now):
    subscription.method = method
    subscription.consent_text = text
    subscription.privacy_notice_version = settings.PRIVACY_NOTICE_VERSION
    subscription.consented_at = now


def editor_consent_text(editor=None):
    who = getattr(editor, "get_username", lambda: "")()
    return settings.EDITOR_CONSENT_TEXT + (f" (recorded by {who})" if who else "")


# Confirmation mails -------------------------------------------------------------------------


def request_confirmation(subscriber, force=False, name=""):
    """Queue a confirmation mail for the subscriber's pending subscriptions, at most one per interval.

    Returns True when a mail was queued. The claim is a compare-and-set on
    last_confirmation_sent_at, so two requests at once queue one mail. A name goes into
    the mail's link, to be applied when the person confirms.
    """
    now = timezone.now()
    claim = Subscriber.objects.filter(pk=subscriber.pk)
    if not force:
        interval = datetime.timedelta(seconds=settings.CONFIRMATION_MIN_INTERVAL)
        claim = claim.filter(
            Q(last_confirmation_sent_at__isnull=True) | Q(last_confirmation_sent_at__lt=now - interval)
        )
    if not claim.update(last_confirmation_sent_at=now):
        return False
    subscriber.last_confirmation_sent_at = now
    from newsletter.tasks.subscriptions import send_confirmation

    args = (subscriber.pk, name) if name else (subscriber.pk,)
    transaction.on_commit(lambda: send_confirmation.delay(*args))
    return True


# The reader's own actions ---------------------------------------------------------------------


@dataclasses.dataclass
class SubscribeResult:
    subscriber: Subscriber
    pending: list  # newsletters waiting for this person's confirmation
    already_active: list
    confirmation_queued: bool


def _subscriber_for(address, name, by_editor=False):
    """(subscriber, created): get or create; safe when two requests create one address at once.

    get_or_create creates inside a savepoint and, on the unique constraint's
    IntegrityError, reads the row the other transaction committed. A new subscriber
    gets the name; an existing one's empty name is filled only by an editor.
    """
    subscriber, created = Subscriber.objects.get_or_create(email=address, defaults={"name": name})
    if by_editor and not created and name and not subscriber.name:
        subscriber.name = name
        subscriber.save(update_fields=["name", "updated_at"])
    return subscriber, created


@transaction.atomic
def subscribe(email, name, newsletters, method=Subscription.Method.FORM):
    """A request from the subscribe form or the JSON endpoint: pending subscriptions and a confirmation mail.

    Already-active subscriptions are left alone (their consent record too); a
    subscription the person left becomes pending again, so re-joining needs a new
    confirmation. The caller answers the same whatever happened here. Anyone may send this, so
    a known address keeps its stored name: a new one travels in the confirmation link.
    """
    address = normalise_address(email)
    name = clean_line(name)
    if not newsletters:
        raise InvalidInput("Choose at least one newsletter.")
    now = timezone.now()
    subscriber, created = _subscriber_for(address, name)
    new_name = "" if created or name == subscriber.name else name
    pending, active = [], []
    for newsletter in newsletters:
        subscription, _ = Subscription.objects.get_or_create(subscriber=subscriber, newsletter=newsletter)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.status == Subscription.Status.ACTIVE:
            active.append(newsletter)
            continue
        subscription.status = Subscription.Status.PENDING
        _record_consent(subscription, method, settings.CONSENT_TEXT, now)
        subscription.save()
        pending.append(newsletter)
    queued = request_confirmation(subscriber, name=new_name) if pending else False
    return SubscribeResult(subscriber, pending, active, queued)


@dataclasses.dataclass
class ConfirmResult:
    subscriber: Subscriber
    activated: list
    already_active: list


@transaction.atomic
def confirm(subscriber_id, newsletter_ids, name=""):
    """Activate the pending subscriptions a confirmation link names; welcome mails follow. Idempotent.

    The link's name, if any, replaces the stored one when this activates something (a spent link
    changes nothing). Raises Subscriber.DoesNotExist when the subscriber was erased meanwhile.
    """
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    subscriptions = (
        Subscription.objects.select_for_update()
        .select_related("newsletter")
        .filter(subscriber=subscriber, newsletter_id__in=newsletter_ids)
        .order_by("newsletter__name")
    )
    activated, already = [], []
    for subscription in subscriptions:
        if subscription.status == Subscription.Status.PENDING:
            subscription.activate()
            subscription.save()
            activated.append(subscription)
        elif subscription.status == Subscription.Status.ACTIVE:
            already.append(subscription)
    if activated:
        if name:
            subscriber.name = name
            subscriber.save(update_fields=["name", "updated_at"])
        Suppression.lift(subscriber.email)
        from newsletter.tasks.subscriptions import send_welcome

        for subscription in activated:
            transaction.on_commit(lambda pk=subscription.pk: send_welcome.delay(pk))
    return ConfirmResult(subscriber, [s.newsletter for s in activated], [s.newsletter for s in already])


def unsubscribe(subscriber_id, newsletter_id):
    """Leave one newsletter, at once: one UPDATE, so a send that checks the status afterwards skips them.

    Idempotent; returns True when this call changed anything.
    """
    now = timezone.now()
    with transaction.atomic():
        changed = Subscription.objects.filter(
            subscriber_id=subscriber_id, newsletter_id=newsletter_id, status__in=RECEIVING
        ).update(status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
        if changed:
            email = Subscriber.objects.filter(pk=subscriber_id).values_list("email", flat=True).first()
            Suppression.add(email, Suppression.Reason.UNSUBSCRIBED)
    return bool(changed)


def unsubscribe_all(subscriber):
    """Leave every newsletter at once; returns how many subscriptions changed."""
    now = timezone.now()
    with transaction.atomic():
        changed = subscriber.subscriptions.filter(status__in=RECEIVING).update(
            status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
        )
        if changed:
            Suppression.add(subscriber.email, Suppression.Reason.UNSUBSCRIBED)
    return changed


@dataclasses.dataclass
class PreferencesResult:
    left: list
    pending: list
    confirmation_queued: bool


@transaction.atomic
def update_preferences(subscriber, name, newsletters):
    """Set the name and the wanted newsletters.

    Newsletters no longer wanted are left at once. Newly wanted ones become pending
    and need a confirmation from the mailbox (the page may be a forwarded copy).
    """
    subscriber.name = clean_line(name)
    subscriber.save(update_fields=["name", "updated_at"])
    wanted = {n.pk: n for n in newsletters}
    now = timezone.now()
    current = {s.newsletter_id: s for s in subscriber.subscriptions.select_related("newsletter")}
    left, pending = [], []
    for newsletter_id, subscription in current.items():
        if newsletter_id not in wanted and subscription.status in RECEIVING:
            unsubscribe(subscriber.pk, newsletter_id)
            left.append(subscription.newsletter)
    for newsletter_id, newsletter in wanted.items():
        subscription = current.get(newsletter_id)
        if subscription and subscription.status in RECEIVING:
            continue
        subscription = subscription or Subscription(subscriber=subscriber, newsletter=newsletter)
        subscription.status = Subscription.Status.PENDING
        _record_consent(subscription, Subscription.Method.FORM, settings.CONSENT_TEXT, now)
        subscription.save()
        pending.append(newsletter)
    queued = request_confirmation(subscriber) if pending else False
    return PreferencesResult(left, pending, queued)


def erase(subscriber):
    """Delete everything held about a person; their deliveries stay, anonymous, for the issue's figures."""
    with transaction.atomic():
        Suppression.add(subscriber.email, Suppression.Reason.ERASED)
        subscriber.delete()


# Editors ---------------------------------------------------------------------------------


@dataclasses.dataclass
class EditorAddResult:
    subscriber: Subscriber
    activated: list
    pending: list
    unchanged: list
    confirmation_queued: bool


@transaction.atomic
def add_by_editor(email, name, newsletters, consent_given, editor=None):
    """An editor adds one person. Active only where the editor records consent and the address
    was never suppressed or unsubscribed there; otherwise pending, and a confirmation is sent."""
    address = normalise_address(email)
    name = clean_line(name)
    if not newsletters:
        raise InvalidInput("Choose at least one newsletter.")
    now = timezone.now()
    suppressed = Suppression.is_suppressed(address)
    subscriber, _ = _subscriber_for(address, name, by_editor=True)
    activated, pending, unchanged = [], [], []
    for newsletter in newsletters:
        subscription, _ = Subscription.objects.select_for_update().get_or_create(
            subscriber=subscriber, newsletter=newsletter
        )
        if subscription.status == Subscription.Status.ACTIVE:
            unchanged.append(newsletter)
            continue
        may_activate = consent_given and not suppressed and subscription.status not in LEFT
        if may_activate:
            _record_consent(subscription, Subscription.Method.ADMIN, editor_consent_text(editor), now)
            subscription.activate()
            activated.append(newsletter)
        else:
            subscription.status = Subscription.Status.PENDING
            _record_consent(subscription, Subscription.Method.ADMIN, settings.CONSENT_TEXT, now)
            pending.append(newsletter)
        subscription.save()
    queued = request_confirmation(subscriber, force=True) if pending else False
    return EditorAddResult(subscriber, activated, pending, unchanged, queued)


def resend_confirmations(subscribers):
    """Queue a confirmation for each subscriber with a pending subscription (throttled); returns the count."""
    queued = 0
    for subscriber in subscribers:
        if subscriber.subscriptions.filter(status=Subscription.Status.PENDING).exists():
            with transaction.atomic():
                queued += request_confirmation(subscriber)
    return queued


# CSV import and export ---------------------------------------------------------------------------

CSV_COLUMNS = ("email", "name", "newsletters", "consent")
IMPORT_BATCH = 1000
MAX_REPORTED_REJECTS = 10_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        )


@dataclasses.dataclass
class _Row:
    line: int
    email: str
    name: str
    slugs: list
    consent: bool


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
    return _Row(line, email, name, list(dict.fromkeys(slugs)), consent == "yes")


def import_csv(stream, send_confirmations=False, editor=None, progress=None):
    """Import subscribers from a CSV file (a binary stream) with the header email,name,newsletters,consent.

    Streams the file and works in batches of IMPORT_BATCH rows, each in its own
    transaction, so memory stays flat however long the file is. Every row is
    checked first; a rejected row writes nothing and is reported with its line
    number and reason. Rows are applied idempotently: an address is one subscriber
    and one subscription per newsletter, so running the same file twice changes
    nothing the second time. `consent` yes makes a subscription active (the editor
    vouches for it), no leaves it pending; pending ones are mailed a confirmation
    only with send_confirmations. Suppressed or unsubscribed addresses are rejected.
    Extra columns (as export_csv writes) are ignored.

    progress, if given, is called with the number of bytes read so far after each batch.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(
            f"The first row must be the header {','.join(CSV_COLUMNS)}; missing: {', '.join(missing)}."
        )
    reader.fieldnames = header
    newsletters = {n.slug: n for n in Newsletter.objects.all()}
    report = ImportReport()
    batch = {}  # address -> _Row
    consent_text = editor_consent_text(editor)
    try:
        for record in reader:
            report.rows += 1
            try:
                row = _parse_row(reader.line_num, record, newsletters)
            except InvalidInput as exc:
                report.reject(reader.line_num, (record.get("email") or "")[:MAX_ADDRESS_LENGTH], str(exc))
                continue
            # An address seen again in this batch: write the batch first, so the repeat meets it in the database.
            if len(batch) >= IMPORT_BATCH or row.email in batch:
                _import_batch(list(batch.values()), newsletters, consent_text, send_confirmations, report)
                batch = {}
                if progress:
                    progress(_bytes_read(stream))
            batch[row.email] = row
        if batch:
            _import_batch(list(batch.values()), newsletters, consent_text, send_confirmations, report)
    except csv.Error as exc:
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
            if current is None:
                subscription = Subscription(subscriber=subscriber, newsletter=newsletter)
                _record_consent(subscription, Subscription.Method.IMPORT, consent_text if row.consent else "", now)
                if row.consent:
                    subscription.activate()
                    report.activated += 1
                else:
                    subscription.consented_at = None
                    report.pending += 1
                    needs_confirmation.add(subscriber.pk)
                to_create.append(subscription)
            elif current.status == Subscription.Status.PENDING and row.consent:
                _record_consent(current, Subscription.Method.IMPORT, consent_text, now)
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
            report.confirmations_queued += request_confirmation(subscriber)


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
