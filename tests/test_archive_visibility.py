"""Each issue's visibility across every door: public is listed everywhere; unlisted opens by its link only, with
noindex; subscribers-only opens only for the reader token in a subscriber's own email, else an invitation.

Each issue carries a word of its own in its title, intro and sections, so a door that lets one through shows it.
"""

import datetime
import re

import pytest
from django.urls import reverse

from newsletter import tokens
from newsletter.models import ApiToken, Issue, Section, Subscriber, Topic
from tests.api_helpers import api, editor, token_for

pytestmark = pytest.mark.django_db

V = Issue.Visibility
WORDS = {V.PUBLIC: "aardvark", V.UNLISTED: "bandicoot", V.SUBSCRIBERS: "capybara"}


@pytest.fixture
def levels(newsletter, make_issue):
    """One published issue at each level, all with the same tag, topic and an event; newest is subscribers-only."""
    topic = Topic.objects.create(newsletter=newsletter, name="Events", slug="events")
    issues = {}
    for n, (level, word) in enumerate(WORDS.items()):
        issue = make_issue(
            f"Issue {word}",
            slug=f"issue-{n}",  # the word in the content only: a page echoes its own address (language links)
            status=Issue.Status.SENT,
            issue_date=datetime.date(2024, 3, 1 + n),
            visibility=level,
            preheader=f"Preheader {word}",
            intro=f"The {word} intro.",
            tags=["Wildlife"],
            sections=[
                {
                    "heading": f"Meet the {word}",
                    "kind": Section.Kind.EVENT,
                    "body_markdown": f"All about the {word}.",
                    "event_date": datetime.date(2024, 4, 1 + n),
                    "venue": f"{word} hall",
                }
            ],
        )
        issue.sections.get().topics.add(topic)
        issues[level] = issue
    return issues


def shown(response):
    body = response.content.decode()
    return {level for level, word in WORDS.items() if word in body}


def test_a_new_issue_takes_its_newsletters_default_and_keeps_its_own(newsletter, make_issue):
    assert make_issue("Before").visibility == V.PUBLIC
    newsletter.default_visibility = V.SUBSCRIBERS
    newsletter.save()

    issue = make_issue("After")
    chosen = make_issue("Chosen", visibility=V.UNLISTED)

    assert issue.visibility == V.SUBSCRIBERS and chosen.visibility == V.UNLISTED
    newsletter.default_visibility = V.PUBLIC
    newsletter.save()
    issue.refresh_from_db()
    assert issue.visibility == V.SUBSCRIBERS  # the default applies to new issues only


def test_listed_is_published_and_public_only(levels, make_issue):
    make_issue("A public draft", status=Issue.Status.DRAFT)
    assert list(Issue.objects.listed()) == [levels[V.PUBLIC]]
    assert Issue.objects.published().count() == 3


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(lambda n: "/", id="home"),
        pytest.param(lambda n: f"/{n.slug}/", id="newsletter"),
        pytest.param(lambda n: "/tags/wildlife/", id="tag"),
        pytest.param(lambda n: "/search/?q=intro", id="search"),
        pytest.param(lambda n: f"/{n.slug}/feed/", id="feed"),
        pytest.param(lambda n: f"/{n.slug}/topics/events/", id="topic"),
        pytest.param(lambda n: f"/{n.slug}/topics/events/feed/", id="topic-feed"),
        pytest.param(lambda n: f"/{n.slug}/events.ics", id="calendar"),
    ],
)
def test_every_public_door_shows_the_public_issue_only(client, newsletter, levels, url):
    response = client.get(url(newsletter))

    assert response.status_code == 200
    assert shown(response) == {V.PUBLIC}


def test_search_finds_nothing_of_the_others_even_by_their_own_words(client, levels):
    for level, word in WORDS.items():
        page = client.get(f"/search/?q={word}").content.decode()
        assert (levels[level].title in page) == (level == V.PUBLIC)


def test_the_sitemap_lists_the_public_issue_with_lastmod(client, levels):
    xml = client.get("/sitemap.xml").text
    entry = re.search(rf"<url><loc>[^<]*{levels[V.PUBLIC].get_absolute_url()}</loc><lastmod>([^<]+)</lastmod>", xml)
    assert entry and entry.group(1) == levels[V.PUBLIC].updated_at.date().isoformat()
    for level in (V.UNLISTED, V.SUBSCRIBERS):
        assert levels[level].get_absolute_url() not in xml


def test_home_counts_and_links_the_public_issue_only(client, levels, parse_html):
    card = parse_html(client.get("/")).find("li", class_="newsletter-card")
    assert "1 issue ·" in card.text and "Latest: Issue aardvark" in card.text

    levels[V.PUBLIC].visibility = V.UNLISTED
    levels[V.PUBLIC].save()

    card = parse_html(client.get("/")).find("li", class_="newsletter-card")
    assert "0 issues" in card.text and "Latest" not in card.text


def test_the_public_issue_is_indexed(client, levels, parse_html):
    response = client.get(levels[V.PUBLIC].get_absolute_url())

    assert response.status_code == 200 and shown(response) == {V.PUBLIC}
    assert "X-Robots-Tag" not in response
    assert parse_html(response).find("meta", name="robots") is None


def test_the_unlisted_issue_opens_by_its_link_with_noindex(client, levels, parse_html):
    response = client.get(levels[V.UNLISTED].get_absolute_url())

    assert response.status_code == 200 and shown(response) == {V.UNLISTED}
    assert response["X-Robots-Tag"] == "noindex"
    assert parse_html(response).find("meta", name="robots").attrs["content"] == "noindex"


def test_the_subscribers_only_issue_without_a_token_is_an_invitation(client, levels, parse_html):
    issue = levels[V.SUBSCRIBERS]
    response = client.get(issue.get_absolute_url())

    assert response.status_code == 403
    assert not shown(response)  # not the title, the preheader, the intro or a section
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"]
    page = parse_html(response)
    assert page.find("h1").text == "This issue is for subscribers"
    assert page.find("meta", name="robots").attrs["content"] == "noindex"
    assert page.find("meta", name="description") is None
    assert page.find("form", action=reverse("subscriptions:subscribe")) is not None


def test_the_subscribers_only_issue_opens_for_a_subscribers_token(client, levels):
    issue = levels[V.SUBSCRIBERS]
    reader = Subscriber.objects.create(email="reader@example.org")

    response = client.get(f"{issue.get_absolute_url()}?token={tokens.reader_token(reader.pk, issue.pk)}")

    assert response.status_code == 200 and shown(response) == {V.SUBSCRIBERS}
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def without_addresses(response):
    """The page without its links' addresses: the language links repeat the address asked for, token and all."""
    return re.sub(r'href="[^"]*"', 'href=""', response.content.decode())


def _altered(token):
    head, mac = token.rsplit(".", 1)
    return f"{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


def test_a_bad_token_opens_the_same_invitation_as_none(client, levels, settings):
    issue, other = levels[V.SUBSCRIBERS], levels[V.UNLISTED]
    reader = Subscriber.objects.create(email="reader@example.org")
    erased = Subscriber.objects.create(email="gone@example.org")
    erased_token = tokens.reader_token(erased.pk, issue.pk)
    erased.delete()
    good = tokens.reader_token(reader.pk, issue.pk)
    settings.READER_LINK_MAX_AGE_DAYS = 0
    expired = tokens.ReaderTokens(issue.pk)
    expired.stamp = tokens._base36(int(datetime.datetime(2020, 1, 1).timestamp()))
    settings.READER_LINK_MAX_AGE_DAYS = 730
    bad = {
        "altered": _altered(good),
        "other subscriber's id in it": good.replace(f"{reader.pk:x}.", f"{reader.pk + 1:x}.", 1),
        "another issue's": tokens.reader_token(reader.pk, other.pk),
        "an erased subscriber's": erased_token,
        "expired": expired(reader.pk),
        "made with another secret": good[:-22] + tokens._reader_mac(b"x" * 32, issue.pk, good[:-23]),
        "empty": "",
        "junk": "<script>" + "9" * 5000,
    }
    invitation = without_addresses(client.get(issue.get_absolute_url()))

    for name, token in bad.items():
        response = client.get(issue.get_absolute_url(), {"token": token})
        assert response.status_code == 403, name
        assert without_addresses(response) == invitation, name


def test_a_token_on_a_page_that_opens_by_its_link_is_dropped(client, levels):
    reader = Subscriber.objects.create(email="reader@example.org")
    for level in (V.PUBLIC, V.UNLISTED):
        issue = levels[level]
        url = f"{issue.get_absolute_url()}?topics=events&token={tokens.reader_token(reader.pk, issue.pk)}"
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{issue.get_absolute_url()}?topics=events"


def test_what_changed_follows_the_issues_visibility(client, levels):
    issue = levels[V.SUBSCRIBERS]
    url = reverse("archive:issue_changes", args=[issue.newsletter.slug, issue.slug])
    response = client.get(url)
    assert response.status_code == 403 and not shown(response)


def test_the_api_lists_and_opens_only_public_issues_whoever_asks(levels):
    reader = api(token_for(editor())[1])

    page = reader.get("/api/v1/issues/").json()

    assert [row["id"] for row in page["results"]] == [levels[V.PUBLIC].pk]
    assert reader.get(f"/api/v1/issues/{levels[V.PUBLIC].pk}/").status_code == 200
    for level in (V.UNLISTED, V.SUBSCRIBERS):
        assert reader.get(f"/api/v1/issues/{levels[level].pk}/").status_code == 404


def test_a_draft_written_through_the_api_takes_the_default_or_its_own_visibility(newsletter):
    newsletter.default_visibility = V.UNLISTED
    newsletter.save()
    writer = api(token_for(editor(), ApiToken.Scope.WRITE)[1])

    default = writer.post("/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "One"}, format="json")
    chosen = writer.post(
        "/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "Two", "visibility": "subscribers"}, format="json"
    )
    wrong = writer.post(
        "/api/v1/drafts/", {"newsletter": newsletter.slug, "title": "Three", "visibility": "secret"}, format="json"
    )

    assert default.status_code == 201 and default.json()["visibility"] == "unlisted"
    assert chosen.status_code == 201 and chosen.json()["visibility"] == "subscribers"
    assert wrong.status_code == 400 and "visibility" in wrong.json()["fields"]


# The page cache: a page cached while public is gone at once ------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", [V.UNLISTED, V.SUBSCRIBERS])
def test_a_cached_public_issue_made_hidden_leaves_every_cached_page_at_once(client, levels, page_cache, level):
    issue, newsletter = levels[V.PUBLIC], levels[V.PUBLIC].newsletter
    doors = [
        "/",
        f"/{newsletter.slug}/",
        "/tags/wildlife/",
        "/search/?q=intro",
        f"/{newsletter.slug}/feed/",
        f"/{newsletter.slug}/topics/events/",
        f"/{newsletter.slug}/topics/events/feed/",
    ]
    for url in [*doors, issue.get_absolute_url()]:
        assert V.PUBLIC in shown(client.get(url)), url
        assert V.PUBLIC in shown(client.get(url)), url  # now from the cache
    assert issue.get_absolute_url() in client.get("/sitemap.xml").text

    issue.visibility = level
    issue.save()

    for url in doors:
        assert V.PUBLIC not in shown(client.get(url)), url
    assert issue.get_absolute_url() not in client.get("/sitemap.xml").text
    page = client.get(issue.get_absolute_url())
    if level == V.UNLISTED:
        assert page.status_code == 200 and page["X-Robots-Tag"] == "noindex"
    else:
        assert page.status_code == 403 and not shown(page)


@pytest.mark.django_db(transaction=True)
def test_a_page_opened_by_a_token_is_never_stored_in_the_shared_cache(client, levels, page_cache):
    issue = levels[V.SUBSCRIBERS]
    reader = Subscriber.objects.create(email="reader@example.org")
    url = f"{issue.get_absolute_url()}?token={tokens.reader_token(reader.pk, issue.pk)}"
    assert client.get(url).status_code == 200

    reader.delete()  # deleting a subscriber changes nothing the archive caches

    assert client.get(url).status_code == 403


def test_the_welsh_pages_follow_the_same_rule(client, newsletter, levels, parse_html):
    path = levels[V.SUBSCRIBERS].get_absolute_url()  # in English, before a Welsh page makes Welsh the active language
    assert shown(client.get(f"/cy/{newsletter.slug}/")) == {V.PUBLIC}
    assert shown(client.get(f"/cy/{newsletter.slug}/feed/")) == {V.PUBLIC}

    response = client.get(f"/cy{path}")

    assert response.status_code == 403 and not shown(response)
    assert parse_html(response).find("h1").text == "Mae’r rhifyn hwn ar gyfer tanysgrifwyr"
