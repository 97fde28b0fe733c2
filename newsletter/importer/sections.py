"""Grouping units into sections: headings, kinds, links, sources and event facts."""

from dataclasses import dataclass, field

from newsletter.importer.dates import find_time, parse_date_line
from newsletter.importer.parsed import ParsedEvent, ParsedLink, ParsedSection
from newsletter.importer.patterns import BOOKING, CLOSING, COLUMN, DIGEST, FEE, FIELD, LABEL, SOURCE, VENUE_SEPARATOR
from newsletter.importer.units import find_headings, is_date_line

# Sections -------------------------------------------------------------------------


@dataclass
class _Section:
    heading: str | None
    kind: str
    units: list = field(default_factory=list)
    source: str | None = None
    label: str | None = None
    children: list = field(default_factory=list)


def _source_text(text):
    m = SOURCE.match(text)
    return (m["bracketed"] or m["via"]).strip() if m else None


def group_sections(units):
    """Intro units and sections from a post's units."""
    headings = find_headings(units)
    intro, sections = [], []
    current = digest = None
    label = None
    closing = False
    for i, unit in enumerate(units):
        if closing:
            current.units.append(unit)
            continue
        if not unit.is_list and LABEL.match(unit.text) and i + 1 in headings:
            label = unit.text.rstrip(":")
            continue
        if i in headings:
            text = unit.text
            if CLOSING.match(text):
                current, closing, digest = _Section(text, "closing"), True, None
                sections.append(current)
            elif digest is not None and len(text.split()) <= 4:
                current = _Section(text, "digest_item")
                digest.children.append(current)
            else:
                kind = "digest" if DIGEST.search(text) else "column" if COLUMN.search(text) else "article"
                current = _Section(text, kind)
                digest = current if kind == "digest" else None
                sections.append(current)
            current.label, label = label, None
            continue
        if not unit.is_list and CLOSING.match(unit.text):
            current, closing, digest = _Section(None, "closing", [unit]), True, None
            sections.append(current)
            continue
        source = None if unit.is_list else _source_text(unit.text)
        if source and current is not None and current.source is None:
            current.source = source
            continue
        (current.units if current is not None else intro).append(unit)
    if not headings and intro:
        sections.insert(0, _Section(None, "article", intro))
        intro = []
    return intro, sections


def _markdown(units):
    parts, links = [], []
    for unit in units:
        text, found = unit.markdown()
        parts.append(text)
        links += found
    return "\n\n".join(parts), links


def _dedupe(links):
    seen, out = set(), []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def _event(section):
    """Event fields, when the section lists an event; removes the lines they came from."""
    body = section.units
    labelled = bool(section.label and "EVENT" in section.label.upper())
    date_index = next((i for i, u in enumerate(body[:2]) if is_date_line(u)), None)
    if date_index is None and not labelled:
        return None
    used, date, time, venue = set(), None, None, None
    if date_index is not None:
        line = parse_date_line(body[date_index].text)
        date, time = line.date.isoformat(), find_time(line.rest)
        m = VENUE_SEPARATOR.match(line.rest)
        if m:
            venue = m["venue"].strip()
        elif date_index + 1 < len(body):
            after = body[date_index + 1]
            if (
                not after.is_list
                and len(after.text) <= 80
                and not after.text.endswith(".")
                and not FIELD.match(after.text)
            ):
                venue = after.text
                used.add(date_index + 1)
        used.add(date_index)
    fee = booking = None
    for i, unit in enumerate(body):
        if unit.is_list or i in used:
            continue
        if fee is None and (m := FEE.match(unit.text)):
            fee = m["fee"].strip()
            used.add(i)
        elif booking is None and BOOKING.search(unit.text):
            booking = unit.markdown()[0]
            used.add(i)
    if fee is None and section.label and "FREE" in section.label.upper():
        fee = "Free"
    if not labelled and not (venue or fee or booking):
        return None
    section.units = [u for i, u in enumerate(body) if i not in used]
    return ParsedEvent(date=date, time=time, venue=venue, fee=fee, booking=booking)


def build_section(section):
    all_links = _markdown(section.units)[1]
    event = _event(section) if section.kind in ("article", "column") or section.label else None
    if event:
        section.kind = "event"
    body, _ = _markdown(section.units)
    return ParsedSection(
        heading=section.heading,
        kind=section.kind,
        body_markdown=body,
        source=section.source,
        event=event,
        links=[ParsedLink(link.url, link.title) for link in _dedupe(all_links)],
        sections=[build_section(child) for child in section.children],
    )
