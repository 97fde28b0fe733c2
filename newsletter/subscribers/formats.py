"""Subscriber exports from other tools, recognised by their header row, and the column mapping for any other CSV.

Plain Python: a header in, a Mapping out; a row (a dict of the file's columns) in, a MappedRow out, or
RowError with the reason. No Django and no database, so the mapping is fuzzed in milliseconds
(tests/test_subscribers_formats.py). csvio applies the rows; lifecycle decides what each status does.

The real headers (docs/subscribers.md, "Moving from another tool"):

- Mailchimp audience export: a zip of one CSV per status. Every file starts "Email Address", then the
  audience's merge fields ("First Name", "Last Name", …), MEMBER_RATING, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME,
  CONFIRM_IP, …, LEID, EUID, NOTES, TAGS. The unsubscribed file adds UNSUB_TIME, UNSUB_CAMPAIGN_TITLE,
  UNSUB_CAMPAIGN_ID, UNSUB_REASON, UNSUB_REASON_OTHER; the cleaned (bounced) file adds CLEAN_TIME,
  CLEAN_CAMPAIGN_TITLE, CLEAN_CAMPAIGN_ID. The file's kind is its status.
- Substack: the settings export's email list (email,active_subscription,expiry,plan,email_disabled,created_at,
  first_payment_at; older ones lack plan and first_payment_at), where email_disabled true means no more mail;
  and the subscriber dashboard's export (Email,Name,Subscription type,Activity,Subscription date,…).
- listmonk: the subscribers page's export, uuid,email,name,attributes,status,created_at,updated_at, status
  enabled, disabled or blocklisted.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass

SUBSCRIBED = "subscribed"  # they receive it in the old tool: active here, with the old tool's consent
PENDING = "pending"  # they had not confirmed: pending here
UNSUBSCRIBED = "unsubscribed"  # they left: on the suppression list, never active
BOUNCED = "bounced"  # the address bounced (Mailchimp "cleaned"): suppressed as bounced
STATUSES = (SUBSCRIBED, PENDING, UNSUBSCRIBED, BOUNCED)
LEAVING = (UNSUBSCRIBED, BOUNCED)

FIELDS = ("email", "name", "first_name", "last_name", "consent_date", "status")
FIELD_ALIASES = {"consent": "consent_date", "date": "consent_date", "first": "first_name", "last": "last_name"}
MAX_CELL = 1000  # a cell read for a field; longer is refused (names are 200, addresses 254, dates ~40)
PREVIEW_ROWS = 5

# What other tools write in a status column, lower case (the generic mapping; each tool's own table below).
STATUS_WORDS = {
    SUBSCRIBED: ("subscribed", "active", "confirmed", "enabled", "opted in", "opt-in", "optin", "yes", "true",
                 "1", "member", "free", "paid", "comp", "gift"),
    PENDING: ("pending", "unconfirmed", "not confirmed", "awaiting confirmation"),
    UNSUBSCRIBED: ("unsubscribed", "unsubscribe", "opted out", "opt-out", "optout", "blocklisted", "blacklisted",
                   "blocked", "disabled", "inactive", "cancelled", "canceled", "no", "false", "0", "complained",
                   "spam", "left"),
    BOUNCED: ("bounced", "cleaned", "hard bounce", "hard_bounce", "hardbounce", "invalid", "undeliverable"),
}  # fmt: skip
_WORD_STATUS = {word: status for status, words in STATUS_WORDS.items() for word in words}

_GO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s+([+-]\d{2}):?(\d{2})\b")
_SPACED = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


class MappingError(ValueError):
    """The mapping does not fit the file (or cannot be read); the message says what. Nothing was written."""


class RowError(ValueError):
    """One row cannot be imported; the message is the reason shown with its line number."""


@dataclass(frozen=True)
class MappedRow:
    email: str
    name: str
    status: str
    consent_at: datetime.datetime | None


@dataclass(frozen=True)
class Mapping:
    """Which column is which. Empty strings: not in the file. consent_date may name several columns, the first
    non-empty one wins (Mailchimp: CONFIRM_TIME, else OPTIN_TIME)."""

    email: str
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    consent_date: tuple = ()
    status: str = ""
    fixed_status: str = SUBSCRIBED  # every row's status when no column says it
    status_values: dict | None = None  # the tool's own words (lower case); None: STATUS_WORDS
    source: str = "another tool"  # recorded with the consent: "Imported from Mailchimp"
    label: str = "a CSV file with mapped columns"

    def columns(self):
        named = [self.email, self.name, self.first_name, self.last_name, *self.consent_date, self.status]
        return [c for c in named if c]

    def check(self, header):
        """MappingError unless every column the mapping names is in the header."""
        if not self.email:
            raise MappingError("Choose the column that holds the email address.")
        missing = [c for c in self.columns() if c not in header]
        if missing:
            shown = ", ".join(f"“{h}”" for h in header[:40]) or "nothing"
            raise MappingError(f"No column {', '.join(f'“{c}”' for c in missing)} in the file; its header has {shown}.")

    def apply(self, record):
        """The row as a MappedRow, or RowError with the reason."""
        email = _cell(record, self.email)
        if not email:
            raise RowError("no email address")
        name = _cell(record, self.name)
        if not name and (self.first_name or self.last_name):
            name = " ".join(p for p in (_cell(record, self.first_name), _cell(record, self.last_name)) if p)
        consent_at = None
        for column in self.consent_date:
            text = _cell(record, column)
            if text:
                consent_at = parse_date(text, column)
                break
        return MappedRow(email=email, name=name, status=self._status(record), consent_at=consent_at)

    def _status(self, record):
        if not self.status:
            return self.fixed_status
        text = _cell(record, self.status)
        if self.status_values is not None:
            status = self.status_values.get(text.lower())
        else:
            status = _WORD_STATUS.get(" ".join(text.lower().replace("_", " ").split()))
        if status is None:
            if not text:
                raise RowError(f"the status column “{self.status}” is empty")
            raise RowError(f"unknown status “{text[:40]}” in “{self.status}”")
        return status


def _cell(record, column):
    if not column:
        return ""
    value = record.get(column)
    if value is None:
        return ""
    if not isinstance(value, str):  # csv.DictReader puts extra cells in a list under None; never asked for here
        value = str(value)
    if len(value) > MAX_CELL:
        raise RowError(f"“{column[:40]}” is too long ({len(value):,} characters)")
    return value.strip()


def parse_date(text, column="date"):
    """An aware datetime (UTC when the text names no zone) from the forms exports use, or RowError.

    ISO 8601 (2024-03-01T10:00:00.000Z, 2024-03-01), Mailchimp's "2013-06-25 17:38:27" (UTC) and Go's
    time.String() as listmonk writes it ("2024-03-01 10:00:00.123456 +0000 UTC").
    """
    text = text.strip()
    value = None
    if len(text) <= 64:
        go = _GO_TIME.match(text)
        spaced = _SPACED.match(text)
        try:
            if go:
                value = datetime.datetime.fromisoformat(f"{go[1]}T{go[2]}{go[3]}:{go[4]}")
            elif spaced:
                value = datetime.datetime.fromisoformat(f"{spaced[1]}T{spaced[2]}")
            elif _DATE.match(text):
                value = datetime.datetime.fromisoformat(f"{text}T00:00:00")
            else:
                value = datetime.datetime.fromisoformat(text)
        except ValueError:
            value = None
    if value is None:
        raise RowError(f"“{text[:40]}” in “{column[:40]}” is not a date (write it as 2024-03-01 or 2024-03-01T10:00Z)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def read_header(stream):
    """The header row of a CSV file (a binary stream), names as written; the stream rewound."""
    if b"\x00" in stream.read(8192):
        stream.seek(0)
        raise MappingError("This is a binary file, not CSV text (export the list as CSV).")
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        header = next(csv.reader(text), [])
    except csv.Error as exc:
        raise MappingError(f"The first line is not valid CSV ({exc}).") from exc
    finally:
        text.detach()
    stream.seek(0)
    return clean_header(header)


def preview(stream, mapping, rows=PREVIEW_ROWS):
    """The first rows as the mapping reads them: [(line, MappedRow, problem or "")]; the stream rewound."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text)
    shown = []
    try:
        reader.fieldnames = clean_header(reader.fieldnames)
        for record in reader:
            try:
                shown.append((reader.line_num, mapping.apply(record), ""))
            except RowError as exc:
                email = str(record.get(mapping.email) or "")[:254]
                shown.append((reader.line_num, MappedRow(email, "", "", None), str(exc)))
            if len(shown) >= rows:
                break
    except csv.Error as exc:
        shown.append((reader.line_num, None, f"not valid CSV here ({exc})"))
    text.detach()
    stream.seek(0)
    return shown


# The tools ------------------------------------------------------------------------------------------


def _mailchimp(header):
    if "Email Address" not in header or not {"OPTIN_TIME", "CONFIRM_TIME", "LEID", "MEMBER_RATING"} & set(header):
        return None
    if "CLEAN_TIME" in header:
        status, kind = BOUNCED, "cleaned"
    elif "UNSUB_TIME" in header:
        status, kind = UNSUBSCRIBED, "unsubscribed"
    else:
        status, kind = SUBSCRIBED, "subscribed"
    return Mapping(
        email="Email Address",
        first_name="First Name" if "First Name" in header else "",
        last_name="Last Name" if "Last Name" in header else "",
        consent_date=tuple(c for c in ("CONFIRM_TIME", "OPTIN_TIME") if c in header),
        fixed_status=status,
        source="Mailchimp",
        label=f"a Mailchimp audience export ({kind} members)",
    )


def _substack(header):
    if {"email", "active_subscription", "email_disabled"} <= set(header):
        return Mapping(
            email="email",
            consent_date=("created_at",) if "created_at" in header else (),
            status="email_disabled",
            status_values={"true": UNSUBSCRIBED, "false": SUBSCRIBED, "": SUBSCRIBED},
            source="Substack",
            label="a Substack email list export",
        )
    if {"Email", "Subscription type", "Subscription date"} <= set(header):
        return Mapping(
            email="Email",
            name="Name" if "Name" in header else "",
            consent_date=("Subscription date",),
            source="Substack",
            label="a Substack subscriber dashboard export",
        )
    return None


def _listmonk(header):
    if not {"uuid", "email", "name", "attributes", "status", "created_at"} <= set(header):
        return None
    return Mapping(
        email="email",
        name="name",
        consent_date=("created_at",),
        status="status",
        status_values={"enabled": SUBSCRIBED, "disabled": UNSUBSCRIBED, "blocklisted": UNSUBSCRIBED},
        source="listmonk",
        label="a listmonk subscriber export",
    )


TOOLS = (_mailchimp, _substack, _listmonk)


def recognise(header):
    """The Mapping of a known tool's export from its header row (a list of names), or None."""
    header = clean_header(header)
    for tool in TOOLS:
        mapping = tool(header)
        if mapping:
            return mapping
    return None


def clean_header(header):
    return [(h or "").strip().removeprefix("\ufeff") for h in header or ()]


def guess(header):
    """A first guess at {field: column} for the admin's mapping step, from the column names; the editor checks it."""
    chosen = {}
    words = {
        "email": ("email", "e-mail", "mail", "email address", "e-mail address", "address"),
        "name": ("name", "full name", "fullname", "display name"),
        "first_name": ("first name", "firstname", "first", "given name", "forename"),
        "last_name": ("last name", "lastname", "last", "surname", "family name"),
        "consent_date": ("consent date", "joined", "joined on", "subscribed", "subscribed at", "subscription date",
                         "created", "created at", "created_at", "date", "signup date", "opt-in date", "optin time"),
        "status": ("status", "state", "subscription status", "subscribed status"),
    }  # fmt: skip
    for column in header:
        key = " ".join(column.lower().replace("_", " ").split())
        for name, known in words.items():
            if name not in chosen and (key in known or key.replace(" ", "_") in known):
                chosen[name] = column
                break
    if "email" not in chosen:
        chosen["email"] = next((c for c in header if "mail" in c.lower()), "")
    return chosen


def parse_spec(spec, source="another tool"):
    """A Mapping from the command line's --map "email=E-mail,name=Full name,consent_date=Joined,status=State".

    Keys: email (required), name, first_name, last_name, consent_date (or consent, date), status.
    """
    chosen = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        key = key.strip().lower().replace("-", "_")
        key = FIELD_ALIASES.get(key, key)
        if not sep or not column.strip():
            raise MappingError(f"“{part.strip()[:60]}”: write FIELD=COLUMN, e.g. email=E-mail")
        if key not in FIELDS:
            raise MappingError(f"unknown field “{key[:40]}”; the fields are {', '.join(FIELDS)}")
        if key in chosen:
            raise MappingError(f"{key} is mapped twice")
        chosen[key] = column.strip()
    return from_choices(chosen, source=source)


def from_choices(chosen, source="another tool"):
    """A Mapping from {field: column} (the admin's mapping form, parse_spec); empty columns are not in the file."""
    if not chosen.get("email"):
        raise MappingError("Choose the column that holds the email address.")
    consent = chosen.get("consent_date") or ""
    return Mapping(
        email=chosen["email"],
        name=chosen.get("name") or "",
        first_name=chosen.get("first_name") or "",
        last_name=chosen.get("last_name") or "",
        consent_date=(consent,) if consent else (),
        status=chosen.get("status") or "",
        source=source or "another tool",
    )
