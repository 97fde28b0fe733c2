"""Dates as people write them in newsletters: "24.05.11", "Tuesday 30th November 2010", "April 2016"."""

import datetime
import re
from dataclasses import dataclass

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|wed|thu|fri|sat|sun)"
_ORD = r"(?:st|nd|rd|th)?"

# "(?:\s*,)?\s+" and not "\s*,?\s+": the same text, but one way to split a run of spaces, not n ways.
DAY_MONTH_YEAR = re.compile(rf"\b(?P<day>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}(?:\s*,)?\s+(?P<year>\d{{4}})\b", re.I)
MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}}){_ORD},?\s+(?P<year>\d{{4}})\b", re.I)
NUMERIC = re.compile(r"(?<![\d.])(?P<day>\d{1,2})[./](?P<month>\d{1,2})[./](?P<year>\d{4}|\d{2})(?![\d.]|\.\d)")
MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+(?P<year>\d{{4}})\b", re.I)

# A line that starts with a date: "21 October 2010, Herefordshire Racecourse", "Monday, December 9th, 2019".
DATE_LINE = re.compile(
    rf"^\s*(?:{_WEEKDAY},?\s+)?(?:"
    rf"(?P<d1>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m1>{_MONTH[10:-4]})\.?,?\s+(?P<y1>\d{{4}})"
    rf"|(?P<m2>{_MONTH[10:-4]})\.?\s+(?P<d2>\d{{1,2}}){_ORD},?\s+(?P<y2>\d{{4}})"
    rf")\b(?P<rest>.*)$",
    re.I,
)
TIME = re.compile(
    r"\b(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)|\b(?P<h24>\d{1,2}):(?P<m24>\d{2})\b", re.I
)


@dataclass(frozen=True)
class FoundDate:
    date: datetime.date
    precision: str  # "day" or "month"
    start: int
    end: int


def _make(year, month, day):
    year = int(year)
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return datetime.date(year, int(month), int(day))
    except ValueError:
        return None


def _month_number(text):
    return MONTHS[text.lower().rstrip(".")]


def find_date(text: str) -> FoundDate | None:
    """The first full date in the text, else a month and year ("April 2016")."""
    candidates = []
    for pattern in (DAY_MONTH_YEAR, MONTH_DAY_YEAR):
        for m in pattern.finditer(text):
            day = _make(m["year"], _month_number(m["month"]), m["day"])
            if day:
                candidates.append(FoundDate(day, "day", m.start(), m.end()))
    for m in NUMERIC.finditer(text):
        day = _make(m["year"], m["month"], m["day"])
        if day:
            candidates.append(FoundDate(day, "day", m.start(), m.end()))
    if candidates:
        return min(candidates, key=lambda found: found.start)
    m = MONTH_YEAR.search(text)
    if m:
        return FoundDate(_make(m["year"], _month_number(m["month"]), 1), "month", m.start(), m.end())
    return None


@dataclass(frozen=True)
class DateLine:
    date: datetime.date
    rest: str  # what follows the date on the line (a venue, a time)


def parse_date_line(text: str) -> DateLine | None:
    m = DATE_LINE.match(text)
    if not m:
        return None
    if m["d1"]:
        day = _make(m["y1"], _month_number(m["m1"]), m["d1"])
    else:
        day = _make(m["y2"], _month_number(m["m2"]), m["d2"])
    if not day:
        return None
    return DateLine(day, m["rest"])


def find_time(text: str) -> str | None:
    m = TIME.search(text)
    if not m:
        return None
    if m["h24"]:
        hour, minute = int(m["h24"]), int(m["m24"])
    else:
        hour, minute = int(m["h"]), int(m["m"] or 0)
        pm = m["ampm"].lower().startswith("p")
        if hour == 12:
            hour = 12 if pm else 0
        elif pm:
            hour += 12
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def strip_dates(text: str) -> str:
    """The text without any date in it, for comparing "Weekly update 24.05.11" with "Weekly update 24 May 2011"."""
    for pattern in (DAY_MONTH_YEAR, MONTH_DAY_YEAR, NUMERIC, MONTH_YEAR):
        text = pattern.sub(" ", text)
    return " ".join(text.split()).lower()
