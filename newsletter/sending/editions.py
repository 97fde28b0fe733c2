"""Topics in a send: the plan frozen on the issue, the audience it reaches, and its editions.

Three modes (Issue.send_plan["mode"]), chosen on the Send to topics screen:

    all        the whole issue to every subscriber (also when there is no plan)
    topics     the whole issue to those who chose at least one selected topic (or everything)
    personal   each subscriber gets the sections with their topics plus the untagged ones: one edition
               per distinct set of sections in the audience, rendered once each, never per recipient;
               beyond EDITION_CAP editions everyone gets the whole issue (said before sending)

snapshot() freezes the newsletter's topics, the selection and each section's topics when the issue is
scheduled or sent, so a topic deleted meanwhile changes nothing about the send. A segment chosen as the
audience (newsletter.models.topics.Segment) is frozen the same way, as its criteria, and narrows any mode.
A subscription's choice is a key (",3,7,"; "" is everything, newsletter.models.topics), so the audience
filter and the grouping by choice are one SQL query each, however many topics there are.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import translation

from newsletter.mail.reach import track_links
from newsletter.models import IssueEdition, Section, Subscription, Topic, topic_ids
from newsletter.models.languages import language_name
from newsletter.models.topics import Segment
from newsletter.rendering import issue_section_ids, render_editions
from newsletter.tokens import absolute

ALL, TOPICS, PERSONAL = "all", "topics", "personal"
MODES = {
    ALL: "The whole issue to every subscriber",
    TOPICS: "The whole issue to subscribers who chose one of these topics",
    PERSONAL: "A personal edition: each subscriber gets the sections for their topics",
}
EDITION_CAP = 64
FULL_LABEL = "All sections"


def snapshot(issue, mode=ALL, selected=(), segment=None):
    """The plan stored on the issue (Issue.send_plan) when it is scheduled or sent."""
    topics = list(Topic.objects.filter(newsletter_id=issue.newsletter_id).values("id", "name", "slug"))
    known = {t["id"] for t in topics}
    sections = {}
    tagged = Section.topics.through.objects.filter(section__issue=issue, section__parent=None)
    for section_id, topic_id in tagged.values_list("section_id", "topic_id"):
        sections.setdefault(str(section_id), []).append(topic_id)
    return {
        "mode": mode if mode in MODES else ALL,
        "selected": sorted({int(t) for t in selected} & known),
        "topics": topics,
        "sections": sections,
        "segment": _segment(issue, segment),
    }


def _segment(issue, segment):
    """A segment's name and criteria as they are now; only the issue's newsletter's own."""
    if segment is None:
        return None
    segment = Segment.objects.filter(pk=getattr(segment, "pk", segment), newsletter_id=issue.newsletter_id).first()
    if segment is None:
        return None
    return {"id": segment.pk, "name": segment.name, "criteria": segment.criteria()}


def audience(issue, plan=None):
    """The active subscriptions the send reaches: for selected topics, those who chose one of them or everything."""
    subscriptions = Subscription.objects.audience(issue)
    if plan and plan.get("mode") in (TOPICS, PERSONAL) and plan.get("selected"):
        subscriptions = subscriptions.for_topics(plan["selected"])
    if plan and plan.get("segment"):
        subscriptions = subscriptions.in_segment(plan["segment"]["criteria"])
    return subscriptions


@dataclass
class Edition:
    label: str
    section_ids: tuple
    topic_ids: tuple = ()
    keys: list = field(default_factory=list)
    recipients: int = 0

    @property
    def full(self):
        return not self.topic_ids


@dataclass
class EditionPlan:
    editions: list
    fallback: bool = False  # more than EDITION_CAP editions: everyone gets the whole issue

    @property
    def total(self):
        return sum(e.recipients for e in self.editions)


def plan_editions(plan, section_order, key_counts, cap=EDITION_CAP):
    """Who gets which sections. `section_order`: the issue's top-level section ids in reading order;
    `key_counts`: {subscription topics key: how many}. Pure: no database, unit-tested on its own.

    A subscriber's topics count only as far as the plan knows them (a topic deleted after the freeze is still
    known; one created after it is not); none left, or "everything", is the whole issue. Subscribers whose
    choices keep the same sections share one edition."""
    names = {t["id"]: t["name"] for t in plan.get("topics", ())}
    rank = {t["id"]: n for n, t in enumerate(plan.get("topics", ()))}
    section_topics = {int(k): set(v) for k, v in plan.get("sections", {}).items()}
    full = tuple(section_order)
    groups = {}
    for key, count in sorted(key_counts.items()):
        chosen = topic_ids(key) & names.keys()
        kept = full
        if plan.get("mode") == PERSONAL and chosen:
            kept = tuple(s for s in section_order if not section_topics.get(s) or section_topics[s] & chosen)
        group = groups.setdefault(kept, Edition(label="", section_ids=kept))
        group.keys.append(key)
        group.recipients += count
        if kept != full:
            carried = set().union(*(section_topics.get(s, set()) for s in kept)) & chosen
            group.topic_ids = tuple(sorted(set(group.topic_ids) | carried, key=rank.get))
    editions = list(groups.values())
    fallback = len(editions) > cap
    if fallback:
        editions = [Edition(label="", section_ids=full, keys=sorted(key_counts), recipients=sum(key_counts.values()))]
    for edition in editions:
        if edition.section_ids == full:
            edition.topic_ids = ()
        edition.label = " + ".join(names[t] for t in edition.topic_ids) if edition.topic_ids else FULL_LABEL
    editions.sort(key=lambda e: (not e.full, -e.recipients, e.label))
    return EditionPlan(editions, fallback)


def key_counts(subscriptions):
    """{topics key: subscriptions}: one GROUP BY query."""
    rows = subscriptions.order_by().values("topics").annotate(n=Count("id")).values_list("topics", "n")
    return dict(rows)


def preview(issue, plan):
    """What the confirmation states before anyone is mailed: the editions and how many get each."""
    counts = key_counts(audience(issue, plan))
    if plan.get("mode") != PERSONAL:
        total = sum(counts.values())
        return EditionPlan([Edition(FULL_LABEL, (), recipients=total)] if total else [])
    return plan_editions(plan, issue_section_ids(issue), counts)


def language_counts(subscriptions, newsletter):
    """{reader language: {topics key: subscriptions}} (languages.reader_language): one GROUP BY query."""
    rows = (
        subscriptions.with_reader_language(newsletter)
        .order_by()
        .values("topics", "reader_language")
        .annotate(n=Count("id"))
        .values_list("reader_language", "topics", "n")
    )
    counts = {}
    for language, key, n in rows:
        counts.setdefault(language, {})[key] = n
    return counts


@dataclass
class EditionMapping:
    """What the freeze gives each subscription: `by_key` {(topics key, language): edition id}, else
    `by_language` {language: edition id}, else none (the issue as stored at send start: the first language)."""

    by_key: dict = field(default_factory=dict)
    by_language: dict = field(default_factory=dict)

    def __bool__(self):
        return bool(self.by_key or self.by_language)

    @property
    def count(self):
        return len(set(self.by_key.values()) | set(self.by_language.values()))


def create_editions(issue, plan, counts):
    """Render each edition once and store it, per language the audience reads (`counts`: language_counts()).

    A personal send: one edition per distinct set of sections per language. Otherwise a bilingual newsletter's
    second language gets one edition of the whole issue, and its first language is the issue as stored at
    send start. Never a rendering per recipient."""
    newsletter = issue.newsletter
    personal = (plan or {}).get("mode") == PERSONAL
    order = issue_section_ids(issue)
    slugs = {t["id"]: t["slug"] for t in (plan or {}).get("topics", ())}
    planned = []  # (language, Edition, fallback)
    for language in newsletter.languages:
        language_keys = counts.get(language, {})
        if personal and language_keys:
            editions = plan_editions(plan, order, language_keys)
            planned += [(language, e, editions.fallback) for e in editions.editions]
        elif language_keys and language != newsletter.languages[0]:
            whole = Edition(
                FULL_LABEL, tuple(order), keys=sorted(language_keys), recipients=sum(language_keys.values())
            )
            planned.append((language, whole, False))
    if not planned:
        return EditionMapping()

    def web_url(language, edition):
        with translation.override(language):  # the page in the edition's language (/cy/…)
            base = absolute(issue.get_absolute_url())
        return f"{base}?topics={','.join(slugs[t] for t in edition.topic_ids)}" if edition.topic_ids else base

    def label(language, edition, fallback):
        text = edition.label + (f" (more than {EDITION_CAP} editions: the whole issue)" if fallback else "")
        return f"{text} – {language_name(language)}" if newsletter.is_bilingual else text

    urls = [web_url(language, e) for language, e, _ in planned]
    rendered = render_editions(
        issue, [(e.section_ids, url, lang) for (lang, e, _), url in zip(planned, urls, strict=True)]
    )
    rendered = [track_links(issue, r) for r in rendered]  # short links when the newsletter counts clicks
    rows = IssueEdition.objects.bulk_create(
        IssueEdition(
            issue=issue,
            number=n,
            label=label(language, e, fallback),
            topic_ids=list(e.topic_ids),
            section_ids=list(e.section_ids),
            recipients=e.recipients,
            subject=r.subject[:200],
            html=r.html,
            text=r.text,
            web_url=url,
            language=language,
        )
        for n, ((language, e, fallback), r, url) in enumerate(zip(planned, rendered, urls, strict=True), start=1)
    )
    if rows and rows[0].pk is None:  # databases that do not return ids from bulk_create
        rows = list(IssueEdition.objects.filter(issue=issue).order_by("number"))
    mapping = EditionMapping()
    for (language, e, _), row in zip(planned, rows, strict=True):
        if personal:
            mapping.by_key.update({(key, language): row.pk for key in e.keys})
            if e.full:  # a choice changed after the plan: the whole issue in their language
                mapping.by_language[language] = row.pk
        else:
            mapping.by_language[language] = row.pk
    return mapping


def deleted_topics(issue):
    """Names of topics in the issue's frozen plan that have since been deleted (the send still uses them)."""
    plan = issue.send_plan or {}
    used = set(plan.get("selected", ())).union(*plan.get("sections", {}).values())
    frozen = {t["id"]: t["name"] for t in plan.get("topics", ()) if t["id"] in used}
    if not frozen:
        return []
    existing = set(Topic.objects.filter(pk__in=frozen).values_list("pk", flat=True))
    return [name for pk, name in frozen.items() if pk not in existing]
