"""Imported sections get the topics an editor has defined, where the seed itself names them.

A seed knows nothing of topics, but it has tags (issue-wide) and digest groups with headings. Where one of
those matches a topic of the newsletter, by slug or by name (case-insensitive; "children’s services" matches a
topic slugged `childrens-services`), the imported sections get that topic:

- an issue's tag: every top-level section of the issue except the closing one ("And lastly…" goes to everyone);
- a digest group's heading: that digest group (its items go with it).

An editor's choice always wins. Each section remembers the topics the importer gave it
(`Section.imported_topic_ids`); the importer changes a section's topics only while they are still exactly
those (a section nobody has tagged starts with none). Once an editor ticks or unticks one, the importer leaves
that section alone on every later run, `--update` included: when `--update` rewrites a changed post, the
editor's topics are carried over to the new section with the same kind and heading.

It runs for every post of every run (created, unchanged, changed, updated or kept), so topics defined after
the first import apply on the next one.
"""

from django.utils.text import slugify

from newsletter.models import Section, Topic


class TopicMatcher:
    """The newsletter's topics, looked up by a seed's label (a tag or a heading)."""

    def __init__(self, newsletter):
        self.index = {}
        for topic in Topic.objects.filter(newsletter=newsletter).order_by("position", "pk"):
            for key in (topic.slug.casefold(), " ".join(topic.name.split()).casefold(), slugify(topic.name)):
                self.index.setdefault(key, topic.pk)
        self.ids = frozenset(self.index.values())

    def __bool__(self):
        return bool(self.index)

    def __call__(self, label):
        label = " ".join((label or "").split())
        if not label:
            return None
        return self.index.get(label.casefold()) or self.index.get(slugify(label))


def _top_sections(issue):
    return list(issue.sections.filter(parent=None).prefetch_related("topics").order_by("position", "id"))


def editor_choices(issue, matcher):
    """Before --update rewrites a post: the topics editors chose, as [(kind, heading, topic ids, recorded)]."""
    chosen = []
    for section in _top_sections(issue):
        current = {t.pk for t in section.topics.all()}
        recorded = set(section.imported_topic_ids)
        if current != recorded & matcher.ids:
            chosen.append((section.kind, section.heading, current, sorted(recorded)))
    return chosen


def restore_choices(issue, chosen):
    """After the rewrite: each chosen set onto the first new section with the same kind and heading."""
    if not chosen:
        return
    waiting = list(chosen)
    for section in _top_sections(issue):
        for n, (kind, heading, topic_ids, recorded) in enumerate(waiting):
            if (kind, heading) == (section.kind, section.heading):
                section.topics.set(topic_ids)
                Section.objects.filter(pk=section.pk).update(imported_topic_ids=recorded)
                del waiting[n]
                break


def apply_topics(issue, tags, matcher):
    """Give the issue's sections the topics its tags and digest headings name; returns how many changed."""
    if not matcher:
        return 0
    from_tags = {t for t in map(matcher, tags) if t}
    changed = 0
    for section in _top_sections(issue):
        wanted = set() if section.kind == Section.Kind.CLOSING else set(from_tags)
        if section.kind == Section.Kind.DIGEST and matcher(section.heading):
            wanted.add(matcher(section.heading))
        current = {t.pk for t in section.topics.all()}
        recorded = set(section.imported_topic_ids)
        # A topic deleted since is gone from both; anything else that differs is an editor's choice.
        if current != recorded & matcher.ids or current == wanted:
            continue
        section.topics.set(wanted)
        Section.objects.filter(pk=section.pk).update(imported_topic_ids=sorted(wanted))
        changed += 1
    return changed
