"""The composer's changes to an issue's outline: add, duplicate, remove, reorder, and move into or out of a group.

`apply(issue, payload)` runs one action (called inside a transaction by compose.change_structure) and returns
the id of the section to select afterwards. Every write is a Section.save() or delete(), so the models' rules
and signals apply (Section.clean() for nesting; an approval withdrawn, models/rules.py). Positions are
renumbered 1…n among the section's siblings (the top level, or one digest group's items).
"""

from django.core.exceptions import ValidationError

from newsletter.models import Section

COPIED_FIELDS = ("heading", "kind", "body_markdown", "source", "event_date", "event_time", "venue", "fee", "booking")


class StructureError(ValueError):
    pass


def _siblings(issue, parent_id):
    return list(issue.sections.filter(parent_id=parent_id).order_by("position", "id"))


def _renumber(ordered):
    for position, section in enumerate(ordered, start=1):
        if section.position != position:
            section.position = position
            section.save(update_fields=["position", "body_html"])


def _section(issue, section_id):
    try:
        return issue.sections.get(pk=int(section_id))
    except (Section.DoesNotExist, TypeError, ValueError):
        raise StructureError("That section is no longer in this issue; reload the page.") from None


def add(issue, payload):
    """A new section: an item at the end of a digest group (`parent`), else an article after `after`,
    else before the closing section ("And lastly…"), else last."""
    parent = _section(issue, payload["parent"]) if payload.get("parent") else None
    kind = Section.Kind.DIGEST_ITEM if parent else payload.get("kind") or Section.Kind.ARTICLE
    if kind not in Section.Kind.values or (not parent and kind == Section.Kind.DIGEST_ITEM):
        raise StructureError("Choose a kind of section.")
    new = Section(issue=issue, parent=parent, kind=kind, heading=str(payload.get("heading") or "")[:300])
    try:
        new.full_clean(exclude=["position"])
    except ValidationError as exc:
        raise StructureError(" ".join(exc.messages)) from None
    siblings = _siblings(issue, parent.pk if parent else None)
    at = len(siblings)
    if payload.get("after"):
        after = _section(issue, payload["after"])
        at = next((n + 1 for n, s in enumerate(siblings) if s.pk == after.pk), at)
    elif not parent:
        at = next((n for n, s in enumerate(siblings) if s.kind == Section.Kind.CLOSING), at)
    new.position = at + 1
    new.save()
    siblings.insert(at, new)
    _renumber(siblings)
    return new.pk


def _copy(section, issue, parent, position):
    copy = Section(issue=issue, parent=parent, position=position)
    for name in COPIED_FIELDS:
        setattr(copy, name, getattr(section, name))
    copy.save()
    copy.topics.set(section.topics.all())
    for link in section.links.all():
        copy.links.create(position=link.position, url=link.url, title=link.title, source=link.source)
    return copy


def duplicate(issue, payload):
    """A copy of a section (its links, topics and, for a digest group, its items) just after it; images are not
    copied (each is one uploaded file with its own alt text)."""
    original = _section(issue, payload.get("id"))
    siblings = _siblings(issue, original.parent_id)
    copy = _copy(original, issue, original.parent, original.position + 1)
    copy.heading = f"{original.heading} (copy)".strip()[:300]
    copy.save(update_fields=["heading", "body_html"])
    for item in original.items.order_by("position", "id"):
        _copy(item, issue, copy, item.position)
    at = next(n + 1 for n, s in enumerate(siblings) if s.pk == original.pk)
    siblings.insert(at, copy)
    _renumber(siblings)
    return copy.pk


def remove(issue, payload):
    section = _section(issue, payload.get("id"))
    parent_id = section.parent_id
    siblings = [s for s in _siblings(issue, parent_id) if s.pk != section.pk]
    at = next((n for n, s in enumerate(_siblings(issue, parent_id)) if s.pk == section.pk), 0)
    section.delete()
    _renumber(siblings)
    if siblings:
        return siblings[min(at, len(siblings) - 1)].pk
    return parent_id


def reorder(issue, payload):
    """`order`: the ids of one set of siblings (the top level, or the items of `parent`) in their new order."""
    parent_id = payload.get("parent") or None
    siblings = {s.pk: s for s in _siblings(issue, parent_id)}
    try:
        order = [int(pk) for pk in payload.get("order", [])]
    except (TypeError, ValueError):
        order = []
    if sorted(order) != sorted(siblings):
        raise StructureError("The outline changed in the meantime; reload the page to see it.")
    _renumber([siblings[pk] for pk in order])
    return payload.get("selected")


def nest(issue, payload):
    """Into the digest group just above: the section becomes the group's last item (one level only: a group or
    the closing section stays at the top level)."""
    section = _section(issue, payload.get("id"))
    if section.parent_id:
        raise StructureError("This is already an item of a group; groups do not nest.")
    if section.kind in (Section.Kind.DIGEST, Section.Kind.CLOSING):
        raise StructureError(f"A {section.get_kind_display().lower()} stays at the top level; groups do not nest.")
    top = _siblings(issue, None)
    at = next(n for n, s in enumerate(top) if s.pk == section.pk)
    group = top[at - 1] if at else None
    if group is None or group.kind != Section.Kind.DIGEST:
        raise StructureError("There is no digest group just above this section to move it into.")
    items = _siblings(issue, group.pk)
    section.parent, section.kind, section.position = group, Section.Kind.DIGEST_ITEM, len(items) + 1
    try:
        section.full_clean(exclude=["position"])
    except ValidationError as exc:
        raise StructureError(" ".join(exc.messages)) from None
    section.save()
    _renumber([*items, section])
    _renumber([s for s in top if s.pk != section.pk])
    return section.pk


def unnest(issue, payload):
    """Out of its group: the item becomes an article at the top level, just after its group."""
    section = _section(issue, payload.get("id"))
    if not section.parent_id:
        raise StructureError("This section is not in a group.")
    group_id = section.parent_id
    items = [s for s in _siblings(issue, group_id) if s.pk != section.pk]
    top = _siblings(issue, None)
    at = next(n for n, s in enumerate(top) if s.pk == group_id)
    section.parent, section.kind = None, Section.Kind.ARTICLE
    section.save()
    top.insert(at + 1, section)
    _renumber(top)
    _renumber(items)
    return section.pk


ACTIONS = {"add": add, "duplicate": duplicate, "remove": remove, "reorder": reorder, "nest": nest, "unnest": unnest}


def apply(issue, payload):
    action = ACTIONS.get(payload.get("action"))
    if action is None:
        raise StructureError("Unknown change.")
    return action(issue, payload)
