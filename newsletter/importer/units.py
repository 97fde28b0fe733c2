"""Cutting a post into units (paragraphs and lists) and finding which units are headings."""

from dataclasses import dataclass, field

from newsletter.importer.dates import parse_date_line
from newsletter.importer.inline import has_link, normalise_spaces, to_markdown
from newsletter.importer.patterns import (
    BULLET,
    BYLINE,
    CLOSING,
    DIGEST,
    FIELD,
    LEFTOVER,
    LETTERED,
    NUMBERED,
    OPENING,
    SENTENCE_BREAK,
    SOURCE,
)


@dataclass
class Unit:
    """A paragraph (one line of text) or a list (its items as (level, marker, text))."""

    text: str = ""
    items: list = field(default_factory=list)
    single_line_block: bool = False

    @property
    def is_list(self):
        return bool(self.items)

    def markdown(self):
        if not self.is_list:
            return to_markdown(self.text)
        lines, links = [], []
        for level, marker, text in self.items:
            body, found = to_markdown(text)
            lines.append(f"{'    ' * level}{marker} {body}")
            links += found
        return "\n".join(lines), links


# Splitting text ---------------------------------------------------------------


def _list_item(line):
    for pattern, kind in ((BULLET, "bullet"), (NUMBERED, "number"), (LETTERED, "letter")):
        m = pattern.match(line)
        if m:
            return kind, len(m["indent"].expandtabs(4)), m
    return None


def _list_unit(lines):
    items, first_indent, after_number = [], None, False
    for kind, indent, m in lines:
        if first_indent is None:
            first_indent = indent
        level = 1 if indent > first_indent or (kind == "bullet" and after_number) else 0
        if kind == "number":
            marker, after_number = f"{int(m['number'])}.", True
            level = 0 if indent <= first_indent else level
        elif kind == "letter":
            marker = f"- {m['letter']})"
        else:
            marker = "-"
        items.append((level, marker, normalise_spaces(m["text"])))
    return Unit(items=items)


def split_units(lines, line_per_block=False):
    """Blocks at blank lines; inside a block, each line a paragraph, consecutive list lines one list."""
    blocks, current = [], []
    for line in lines:
        if LEFTOVER.match(line):
            continue
        if not normalise_spaces(line):
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line)
        if line_per_block:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    units = []
    for block in blocks:
        pending = []
        for line in block:
            item = _list_item(line)
            if item:
                pending.append(item)
                continue
            if pending:
                units.append(_list_unit(pending))
                pending = []
            units.append(Unit(text=normalise_spaces(line), single_line_block=len(block) == 1))
        if pending:
            units.append(_list_unit(pending))
    return units


# Recognising units --------------------------------------------------------------

# A line longer than this is running text, whatever else it looks like.
HEADING_MAX_CHARS = 140
HEADING_MAX_WORDS = 22


def is_date_line(unit):
    return not unit.is_list and parse_date_line(unit.text) is not None


def heading_shaped(units, i):
    unit = units[i]
    if unit.is_list or not unit.single_line_block:
        return False
    text = unit.text
    if len(text) > HEADING_MAX_CHARS or len(text.split()) > HEADING_MAX_WORDS:
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in OPENING):
        return False
    if text[-1] in ".,;:" or text.endswith("...") or ";" in text:
        return False
    # A question with a comma is the text talking to its reader ("And last, but not least: Does anyone
    # fancy a drink?"); a bare one reads as a title ("Smaller Government: Bigger Society?"). docs/importer.md.
    if text[-1] == "?" and "," in text:
        return False
    if has_link(text) or parse_date_line(text) or BYLINE.match(text) or SOURCE.match(text) or FIELD.match(text):
        return False
    if SENTENCE_BREAK.search(text) and not CLOSING.match(text):
        return False
    return not (i > 0 and is_date_line(units[i - 1]))


def find_headings(units):
    shaped = [heading_shaped(units, i) for i in range(len(units))]
    headings = set()
    for i, is_shaped in enumerate(shaped):
        if not is_shaped or i + 1 >= len(units):
            continue
        # A heading-shaped line directly above another is a subtitle, except a digest above its first item.
        if not shaped[i + 1] or DIGEST.search(units[i].text):
            headings.add(i)
    return headings
