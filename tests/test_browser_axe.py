"""Accessibility: axe-core, in Debian's Chromium, over every kind of page the project serves, failing on any
serious or critical violation (axe's WCAG 2.0–2.2 A/AA rules and its best practices; minor and moderate
findings are printed, not failed).

axe-core is pinned in the Makefile (AXE_CORE_VERSION) and installed by `make axe`, which `make test`
depends on (`npm install --no-save axe-core@<pin>` into node_modules/). Without it these tests skip, or
fail with CI=true, like every test whose tool is missing (tests/services.py).

A page owned by another area that has a violation is marked, until its owner fixes it, with
`marks=pytest.mark.xfail(strict=True, reason="<rule id>: …")`: strict, so the fix is noticed.
"""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import path
from django.utils import timezone

from config.urls import urlpatterns as site_urlpatterns
from newsletter import languages, tokens
from newsletter.models import Delivery, Issue, Section, Subscriber, Subscription, Topic
from newsletter.models.topics import Segment
from tests.browser_helpers import log_in_as_editor
from tests.conftest import RICH_SECTIONS
from tests.services import require_service

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_PIN = re.search(r"^AXE_CORE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
pytestmark = pytest.mark.django_db(transaction=True)

FAILING_IMPACTS = {"serious", "critical"}

# Django admin's own markup that we do not render and cannot change from a template, left out of the check:
# - `.selector .help-tooltip`: SelectFilter2.js (the tags' filter_horizontal widget) builds a <span> with an
#   aria-label and no role inside the filter boxes' labels (axe aria-prohibited-attr, serious). The filter
#   inputs keep their placeholder and the select boxes their labels; it is Django's to fix.
DJANGO_ADMIN_EXCLUDE = [".selector .help-tooltip"]


def boom(request):
    raise RuntimeError("a bug in a view, to see the 500 page")


# Only for the 500 page: the site's URLs plus a view that raises (settings.ROOT_URLCONF points here).
urlpatterns = [path("test-server-error/", boom), *site_urlpatterns]


@pytest.fixture(scope="module")
def axe_source():
    require_service(AXE.exists(), f"needs axe-core at {AXE.relative_to(ROOT)} (run `make axe`)")
    return AXE.read_text()


def run_axe(page, axe_source, exclude=()):
    """axe's violations on the page as it is now: [(rule id, impact, help, [(target, html), …]), …].

    Playwright's add_script_tag(path=…) inserts an inline <script>, which the site's Content-Security-Policy
    (script-src 'self') refuses; the source is evaluated through the DevTools protocol instead, which the
    policy does not govern. The page keeps its real policy, so styles it refuses stay refused for axe too.
    """
    page.evaluate(axe_source)
    assert page.evaluate("axe.version") == AXE_PIN, "node_modules holds another axe-core: run `make axe`"
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]}
    results = page.evaluate("context => axe.run(context, {resultTypes: ['violations']})", context)
    return [
        (v["id"], v["impact"], v["help"], [(", ".join(map(str, n["target"])), n["html"][:200]) for n in v["nodes"]])
        for v in results["violations"]
    ]


# Data -------------------------------------------------------------------------------------------


@pytest.fixture
def site(archive, make_issue, newsletter):
    """The archive (published, draft, scheduled), a draft with every kind of section, an issue that is
    sending, and two subscribers (one active, one waiting to confirm)."""
    newsletter.sender_email = "news@example.org"
    newsletter.save()
    draft = make_issue(
        "Weekly update 31 May 2011",
        status=Issue.Status.DRAFT,
        issue_date=datetime.date(2011, 5, 31),
        intro="Welcome to this week's update.",
        sign_off="P.S. Our annual conference is booking now.",
        subject="This week: budgets, events and sausages",
        preheader="Councils expect a difficult year",
        sections=RICH_SECTIONS,
    )
    active = Subscriber.objects.create(email="reader@example.org", name="Reader")
    Subscription.objects.create(subscriber=active, newsletter=newsletter, status=Subscription.Status.ACTIVE)
    pending = Subscriber.objects.create(email="pending@example.org")
    Subscription.objects.create(subscriber=pending, newsletter=newsletter, status=Subscription.Status.PENDING)
    sending = make_issue("Weekly update 7 June 2011", status=Issue.Status.SENDING, send_started_at=timezone.now())
    events = Topic.objects.create(newsletter=newsletter, name="Events", slug="events", description="What's on.")
    for section in Section.objects.filter(issue__in=archive.published, parent=None).exclude(kind=Section.Kind.CLOSING):
        section.topics.add(events)
    segment = Segment.objects.create(newsletter=newsletter, name="Colleagues", domain="example.org")
    segment.topics.add(events)
    Delivery.objects.create(issue=sending, subscriber=active, status=Delivery.Status.SENT)
    Delivery.objects.create(issue=sending, subscriber=pending)
    return {
        "archive": archive,
        "newsletter": newsletter,
        "draft": draft,
        "sending": sending,
        "active": active,
        "pending": pending,
        "section": draft.sections.get(kind=Section.Kind.EVENT),
        "segment": segment,
    }


# Pages ------------------------------------------------------------------------------------------


def show_tab(name):
    def show(page):
        page.get_by_role("tab", name=name).click()

    return show


def page_case(name, url, *, editor=False, then=None, dark=False, marks=()):
    return pytest.param(url, editor, then, dark, id=name, marks=marks)


def subscribers_only(issue):
    """The issue made subscribers-only: its page, opened without a token, is the invitation (archive/access.py)."""
    issue.visibility = Issue.Visibility.SUBSCRIBERS
    issue.save()
    return issue.get_absolute_url()


PUBLIC = [
    page_case("home", lambda s: "/"),
    page_case("newsletter", lambda s: f"/{s['newsletter'].slug}/"),
    page_case("issue", lambda s: s["archive"].rich.get_absolute_url()),
    page_case("search", lambda s: "/search/?q=dementia"),
    page_case("tag", lambda s: "/tags/events/"),
    page_case("topic", lambda s: f"/{s['newsletter'].slug}/topics/events/"),
    page_case("contribute", lambda s: f"/contribute/{s['newsletter'].slug}/"),
    page_case("subscribers-only-invitation", lambda s: subscribers_only(s["archive"].published[1])),
]
SUBSCRIBERS = [
    page_case("subscribe", lambda s: "/subscribe/"),
    page_case("confirm", lambda s: tokens.confirm_url(s["pending"].pk, [s["newsletter"].pk])),
    page_case("preferences", lambda s: tokens.preferences_url(s["active"].pk)),
    page_case("unsubscribe", lambda s: tokens.unsubscribe_url(s["active"].pk, s["newsletter"].pk)),
]
ERRORS = [
    page_case("404", lambda s: "/no-such-newsletter/no-such-issue/"),
    page_case("500", lambda s: "/test-server-error/"),
]


def welsh(url):
    """The Welsh address of a page given by its English one (absolute or not)."""
    return languages.path_in(url.removeprefix(django_settings.SITE_URL), "cy")


# Welsh pages: longer words, another `lang`, the language switch pointing back to English.
WELSH = [
    page_case("cy-home", lambda s: "/cy/"),
    page_case("cy-issue", lambda s: welsh(s["archive"].rich.get_absolute_url())),
    page_case("cy-search", lambda s: "/cy/search/?q=dementia"),
    page_case("cy-subscribe", lambda s: "/cy/subscribe/"),
    page_case("cy-preferences", lambda s: welsh(tokens.preferences_url(s["active"].pk))),
    page_case("cy-unsubscribe", lambda s: welsh(tokens.unsubscribe_url(s["active"].pk, s["newsletter"].pk))),
    page_case("cy-contribute", lambda s: f"/cy/contribute/{s['newsletter'].slug}/"),
    page_case("cy-404", lambda s: "/cy/no-such-newsletter/no-such-issue/"),
]
EDITOR = [
    page_case("admin-index", lambda s: "/admin/", editor=True),
    page_case("admin-index-dark", lambda s: "/admin/", editor=True, dark=True),
    page_case("issue-list", lambda s: "/admin/newsletter/issue/", editor=True),
    page_case("issue-change", lambda s: f"/admin/newsletter/issue/{s['draft'].pk}/change/", editor=True),
    page_case(
        "issue-change-with-comments", lambda s: f"/admin/newsletter/issue/{s['archive'].rich.pk}/change/", editor=True
    ),
    page_case("section-change", lambda s: f"/admin/newsletter/section/{s['section'].pk}/change/", editor=True),
    page_case("review", lambda s: f"/admin/editor/issue/{s['draft'].pk}/review/", editor=True),
    page_case("review-dark", lambda s: f"/admin/editor/issue/{s['draft'].pk}/review/", editor=True, dark=True),
    page_case(
        "review-plain-text",
        lambda s: f"/admin/editor/issue/{s['draft'].pk}/review/",
        editor=True,
        then=show_tab("Plain text"),
    ),
    page_case("review-sending", lambda s: f"/admin/editor/issue/{s['sending'].pk}/review/", editor=True),
    page_case("send-now", lambda s: f"/admin/editor/issue/{s['draft'].pk}/send/", editor=True),
    page_case(
        "send-topics-segment",
        lambda s: f"/admin/editor/issue/{s['draft'].pk}/send/topics/?mode=all&segment={s['segment'].pk}",
        editor=True,
    ),
    page_case("segment-change", lambda s: f"/admin/newsletter/segment/{s['segment'].pk}/change/", editor=True),
]


@pytest.mark.parametrize(("url", "editor", "then", "dark"), PUBLIC + SUBSCRIBERS + ERRORS + WELSH + EDITOR)
def test_page_has_no_serious_accessibility_violations(
    url, editor, then, dark, site, page, live_server, axe_source, settings
):
    settings.ROOT_URLCONF = __name__
    if editor:
        log_in_as_editor(page.context, live_server)
    if dark:
        page.emulate_media(color_scheme="dark")
    page.goto(live_server.url + url(site).removeprefix(settings.SITE_URL))
    if then:
        then(page)

    violations = run_axe(page, axe_source, exclude=DJANGO_ADMIN_EXCLUDE if editor else ())

    print(json.dumps(violations, indent=1, ensure_ascii=False))  # every finding, for the record
    serious = [v for v in violations if v[1] in FAILING_IMPACTS]
    assert not serious, json.dumps(serious, indent=1, ensure_ascii=False)


def test_the_check_finds_what_it_should(page, live_server, axe_source):
    """A page with known faults fails, so a quiet run means the pages are clean, not that axe did not run."""
    page.goto(live_server.url + "/no-such-page/")
    page.evaluate(
        """() => {
            const image = document.createElement("img");
            image.src = "/static/newsletter/favicon.svg";   // no alt text: image-alt, critical
            document.querySelector("main").append(image);
        }"""
    )
    ids = {v[0] for v in run_axe(page, axe_source) if v[1] in FAILING_IMPACTS}
    assert "image-alt" in ids
