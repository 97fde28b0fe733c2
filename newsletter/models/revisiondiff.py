"""A readable diff between two revisions' snapshots (newsletter/models/revisions.py), per section: added,
removed, moved (not in the longest common order of the sections both have) and changed, with changed words marked
(<del>/<ins>, difflib). Used by the editor's history (newsletter/editor/history.py) and the archive's "what
changed" page for readers (newsletter/archive/changes.py)."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

ISSUE_LABELS = {"title": "Title", "subject": "Subject", "preheader": "Preheader", "intro": "Intro"}
ISSUE_LABELS.update({"sign_off": "Sign-off", "tags": "Tags"})
SECTION_LABELS = {"heading": "Heading", "kind": "Kind", "body_markdown": "Text", "source": "Source"}
SECTION_LABELS.update({"event_date": "Event date", "event_time": "Event time", "venue": "Venue", "fee": "Fee"})
SECTION_LABELS.update({"booking": "Booking", "topics": "Topics", "links": "Links", "images": "Images (alt text)"})
WORDS = re.compile(r"\s+|[^\s]+")


def _text(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value)
    if isinstance(value, dict):  # a link
        return " ".join(part for part in (value.get("title"), f"<{value.get('url')}>", value.get("source")) if part)
    return str(value)


def word_diff(old, new):
    """(old_html, new_html): the two texts escaped, words only in old in <del>, words only in new in <ins>."""
    a, b = WORDS.findall(old), WORDS.findall(new)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        gone, came = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            left.append(gone)
            right.append(came)
            continue
        if gone:
            left.append(f"<del>{gone}</del>")
        if came:
            right.append(f"<ins>{came}</ins>")
    return mark_safe("".join(left)), mark_safe("".join(right))


def _fields(labels, old, new, everything=False):
    rows = []
    for name, label in labels.items():
        before, after = _text((old or {}).get(name)), _text((new or {}).get(name))
        if before == after and not (everything and after):
            continue
        left, right = word_diff(before, after)
        rows.append({"label": label, "old": left, "new": right, "changed": before != after})
    return rows


def compare(old, new, issue_labels=ISSUE_LABELS, section_labels=SECTION_LABELS):
    """What changed from snapshot `old` to snapshot `new`: {"issue": rows, "sections": [...], "changed": bool};
    the labels choose which fields are compared."""
    old_sections = {s["id"]: s for s in old["sections"]}
    new_sections = {s["id"]: s for s in new["sections"]}
    old_order = [s["id"] for s in old["sections"] if s["id"] in new_sections]
    new_order = [s["id"] for s in new["sections"] if s["id"] in old_sections]
    matcher = difflib.SequenceMatcher(None, old_order, new_order, autojunk=False)
    stayed = {old_order[block.a + k] for block in matcher.get_matching_blocks() for k in range(block.size)}
    sections = []
    for place, section in enumerate(new["sections"], start=1):
        before = old_sections.get(section["id"])
        if before is None:
            state = "added"
        elif section["id"] not in stayed:
            state = "moved"
        else:
            state = "unchanged"
        rows = _fields(section_labels, before, section, everything=state == "added")
        if state == "unchanged" and rows:
            state = "changed"
        was = old["sections"].index(before) + 1 if before else None
        sections.append({"heading": section["heading"], "state": state, "rows": rows, "place": place, "was": was})
    for place, section in enumerate(old["sections"], start=1):
        if section["id"] not in new_sections:
            rows = _fields(section_labels, section, None)
            sections.append(
                {"heading": section["heading"], "state": "removed", "rows": rows, "place": None, "was": place}
            )
    issue_rows = _fields(issue_labels, old, new)
    changed = bool(issue_rows) or any(s["state"] != "unchanged" for s in sections)
    return {"issue": issue_rows, "sections": sections, "changed": changed}
