"""Shared fixtures: newsletters and issues built the way the importer leaves them, and an HTML reader.

Factories (`make_newsletter`, `make_issue`) for tests that need their own data;
`rich_issue` and `archive` for tests that want a realistic newsletter at once.
"""

import datetime
import os
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import translation

from newsletter.models import Comment, Issue, Link, Newsletter, Section, Tag
from tests.services import redis_answers, require_service


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    """Tests marked `postgres` skip on other databases, or fail when CI=true says PostgreSQL must be there."""
    if request.node.get_closest_marker("postgres"):
        require_service(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request to a /cy/ page leaves Welsh active in the test's thread (LocaleMiddleware activates, nothing
    deactivates): each test starts in the default language, as each real request chooses its own."""
    yield
    translation.deactivate()


# Data ------------------------------------------------------------------------


@pytest.fixture
def make_newsletter(db):
    def make(name="Weekly Update", slug=None, description="", **fields):
        slug = slug or name.lower().replace(" ", "-")
        return Newsletter.objects.create(name=name, slug=slug, description=description, **fields)

    return make


@pytest.fixture
def council(make_newsletter):
    """A bilingual newsletter: English, and Welsh as its second language, with a welcome in each."""
    return make_newsletter(
        "Council News",
        slug="council-news",
        second_language="cy",
        sender_name="Council",
        sender_email="news@council.example",
        welcome_message="Thanks for joining.",
        second_welcome_message="Diolch am ymuno.",
    )


@pytest.fixture
def page_cache(settings):
    """The archive's page cache on (on the test cache backend), emptied before and after."""
    from django.core.cache import cache

    settings.ARCHIVE_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newsletter(make_newsletter):
    return make_newsletter(
        "SSRG Weekly Update",
        slug="weekly-update",
        description="News and events for social services researchers.",
    )


def _add_section(issue, position, spec, parent=None):
    spec = dict(spec)
    items = spec.pop("items", [])
    links = spec.pop("links", [])
    section = Section.objects.create(issue=issue, parent=parent, position=position, **spec)
    for n, link in enumerate(links):
        link = {"url": link} if isinstance(link, str) else link
        Link.objects.create(section=section, position=n, **link)
    for n, item in enumerate(items, start=1):
        _add_section(issue, n, {"kind": Section.Kind.DIGEST_ITEM, **item}, parent=section)
    return section


@pytest.fixture
def make_issue(db, newsletter):
    """Build an issue with sections, tags and comments; search_text is rebuilt as the loader does.

    sections: dicts of Section fields, plus optional "links" (URLs or Link field dicts)
    and "items" (digest items, same shape). comments: body strings or Comment field dicts.
    """

    def make(
        title="Weekly update",
        *,
        newsletter=newsletter,
        status=Issue.Status.IMPORTED,
        issue_date=None,
        date_precision=None,
        tags=(),
        sections=(),
        comments=(),
        **fields,
    ):
        issue = Issue(newsletter=newsletter, title=title, status=status, issue_date=issue_date, **fields)
        issue.date_precision = date_precision or (Issue.DatePrecision.DAY if issue_date else "")
        issue.slug = fields.get("slug") or issue.unique_slug(title)
        issue.save()
        issue.tags.set(Tag.for_names(tags))
        for position, spec in enumerate(sections, start=1):
            _add_section(issue, position, spec)
        for position, comment in enumerate(comments, start=1):
            comment = {"body_markdown": comment} if isinstance(comment, str) else comment
            Comment.objects.create(issue=issue, position=position, **comment)
        issue.rebuild_search_text()
        return issue

    return make


RICH_SECTIONS = [
    {
        "heading": "Council budgets under pressure",
        "body_markdown": "Councils expect a **difficult** year. Read more at <http://www.localgov.co.uk/budgets>",
        "source": "Via Localgov – 23rd May",
        "links": ["http://www.localgov.co.uk/budgets"],
    },
    {
        "heading": "Weekly round-up",
        "kind": Section.Kind.DIGEST,
        "items": [
            {"heading": "Care homes", "body_markdown": "Inspection results published for care homes."},
            {"heading": "Housing", "body_markdown": "New guidance on supported housing."},
            {"heading": "Data sharing", "body_markdown": "A protocol for sharing data between agencies."},
        ],
    },
    {
        "heading": "Making the Equality Framework work for you",
        "kind": Section.Kind.EVENT,
        "body_markdown": "A series of free events with Equality Works.",
        "event_date": datetime.date(2011, 6, 21),
        "event_time": datetime.time(10, 30),
        "venue": "Herefordshire Racecourse, Hereford, HR4 9QU",
        "fee": "Free",
        "booking": "To book, email <events@example.org>",
        "links": ["mailto:events@example.org", {"url": "https://example.org/programme", "title": "Programme"}],
    },
    {
        "heading": "Silly Sausage Corner",
        "kind": Section.Kind.COLUMN,
        "body_markdown": "This week's column is about sausages.",
    },
    {
        "heading": "",
        "kind": Section.Kind.CLOSING,
        "body_markdown": "And lastly, thank you to everyone who came to the conference.",
    },
]


@pytest.fixture
def rich_issue(make_issue):
    """A published issue with every kind of section, links, tags and comments (one hidden)."""
    return make_issue(
        "Weekly update 24 May 2011",
        issue_date=datetime.date(2011, 5, 24),
        intro="Welcome to this week's update.",
        sign_off="P.S. Our annual conference is booking now.",
        tags=["Adult social care", "Events"],
        sections=RICH_SECTIONS,
        comments=[
            "I agree with this!",
            {"author": "Pat", "posted_on": datetime.date(2011, 5, 25), "body_markdown": "Thanks for sharing."},
            {"body_markdown": "Buy cheap watches", "hidden": True},
        ],
    )


@pytest.fixture
def archive(newsletter, make_issue, rich_issue):
    """The `newsletter` with published issues over two years, one undated, plus a draft and a scheduled issue.

    `published` is newest first, as the archive lists them.
    """
    may = make_issue(
        "Weekly update 10 May 2011",
        status=Issue.Status.SENT,
        issue_date=datetime.date(2011, 5, 10),
        tags=["Events"],
        sections=[{"heading": "Dementia strategy", "body_markdown": "The national dementia strategy one year on."}],
    )
    autumn = make_issue(
        "Autumn round-up",
        issue_date=datetime.date(2010, 10, 1),
        date_precision=Issue.DatePrecision.MONTH,
        sections=[{"heading": "Personalisation", "body_markdown": "Personal budgets in adult social care."}],
    )
    december = make_issue(
        "Weekly update 2 December 2010",
        issue_date=datetime.date(2010, 12, 2),
        sections=[{"heading": "Snow closures", "body_markdown": "Day centres closed by snow."}],
    )
    undated = make_issue(
        "SSRG events and Silly Sausage Corner",
        sections=[{"heading": "Hackney person centred services", "body_markdown": "A delivery model."}],
    )
    draft = make_issue(
        "Draft: next week",
        status=Issue.Status.DRAFT,
        issue_date=datetime.date(2011, 6, 1),
        tags=["Events"],
        sections=[{"heading": "Secret plans", "body_markdown": "Unpublished dementia news."}],
    )
    scheduled = make_issue(
        "Scheduled: the week after",
        status=Issue.Status.SCHEDULED,
        issue_date=datetime.date(2011, 6, 8),
        sections=[{"heading": "Embargoed", "body_markdown": "Embargoed dementia news."}],
    )
    return SimpleNamespace(
        newsletter=newsletter,
        rich=rich_issue,
        published=[rich_issue, may, december, autumn, undated],
        draft=draft,
        scheduled=scheduled,
    )


# Reading pages ----------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self._text = [], []

    @property
    def text(self):
        parts = []
        for child in self._text:
            parts.append(child.text if isinstance(child, Element) else child)
        return " ".join(" ".join(parts).split())

    @property
    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def iter(self):
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag=None, **attrs):
        """Descendants by tag and attributes; `class_` matches one class among several."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        found = []
        for el in self.iter():
            if tag and el.tag != tag:
                continue
            if all(_attr_matches(el, k, v) for k, v in wanted.items()):
                found.append(el)
        return found

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"


def _attr_matches(el, name, value):
    if name == "class":
        return value in (el.attrs.get("class") or "").split()
    if value is True:
        return name in el.attrs
    return el.attrs.get(name) == value


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.node = self.root

    def handle_starttag(self, tag, attrs):
        el = Element(tag, attrs, self.node)
        self.node.children.append(el)
        self.node._text.append(el)
        if tag not in _VOID:
            self.node = el

    def handle_endtag(self, tag):
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.node = node.parent

    def handle_data(self, data):
        self.node._text.append(data)


@pytest.fixture
def parse_html():
    """Turn a response (or HTML string) into an Element tree with find/find_all/text/ancestors."""

    def parse(response_or_html):
        html = response_or_html
        if not isinstance(html, str):
            html = response_or_html.content.decode()
        builder = _TreeBuilder()
        builder.feed(html)
        builder.close()
        return builder.root

    return parse


# --- Browser (headless Chromium from Debian, driven by Playwright) ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "artifacts"


@pytest.fixture(scope="session")
def browser():
    require_service(Path(CHROMIUM).exists(), f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM would refuse to run beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page; `page.goto(live_server.url + path)`."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name):
    """Save a screenshot under var/artifacts/ for people to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# --- subscribers ---


@pytest.fixture
def fresh_cache(db):
    """An empty cache, so one test's rate-limit counters never reach the next (the database cache outlives tests)."""
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def mail_links():
    """The links in an email's plain-text body, as paths the test client can open."""
    import re

    from django.conf import settings

    def links(message):
        return [url.removeprefix(settings.SITE_URL) for url in re.findall(r"https?://\S+", message.body)]

    return links


# --- Operations: Redis for tests (database 7 unless REDIS_TEST_URL says otherwise) ---


@pytest.fixture
def redis_url():
    """A Redis URL that answers, emptied first; skipped without Redis, failed under CI=true."""
    import redis

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/7")
    require_service(redis_answers(url), f"needs Redis at {url}")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def editor_client(client, db):
    """The test client, logged in as an editor made the way `make run` makes one (the Editors group)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_editor", "--username", "ed", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    assert client.login(username="ed", password=password)
    return client


@pytest.fixture
def fresh_celery_pools():
    """Start from fresh broker connection pools, whatever an earlier test closed (e.g. a worker fixture)."""
    import kombu.pools

    from config.celery import app

    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    return app


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Logins in tests need not resist brute force; PBKDF2's cost would dominate the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- sending ---


@pytest.fixture
def smtp_server(settings):
    servers = []

    def start(**faults):
        """A real SMTP server on loopback that misbehaves as asked (tests/delivery_helpers.RecordingHandler)."""
        from tests.delivery_helpers import RecordingHandler, start_smtp_server

        handler = RecordingHandler(**faults)
        controller = start_smtp_server(handler)
        servers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "", False, False
        return handler

    yield start
    for controller in servers:
        controller.stop()


BROWSER_FIXTURES = {"browser", "page"}


def pytest_collection_modifyitems(config, items):
    """Mark each test that drives Chromium `browser`: the Makefile runs them in its SQLite pass (README, Tests)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


# --- the inbox: a loopback feed server and IMAP server (tests/feed_helpers.py, tests/imap_helpers.py) ---

from tests.feed_helpers import feed_server  # noqa: E402, F401
from tests.imap_helpers import imap_server  # noqa: E402, F401
