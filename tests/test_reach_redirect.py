"""Reach (issue 14): /r/<id>.<signature> sends a reader to the link's target and counts one click, anonymously;
HEAD requests, the canary link, clicks on arrival and floods are counted apart; anything else is a 404 page."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from newsletter.archive.tasks import flush_reach_counts
from newsletter.models import Issue, TrackedLink
from newsletter.models.reach import link_signature

pytestmark = pytest.mark.django_db

TARGET = "https://example.org/programme?a=1&b=2"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "reach-tests"}}


@pytest.fixture
def sent_issue(make_issue, fresh_cache):
    issue = make_issue("Sent one", status="sent", sections=[{"heading": "Parks", "body_markdown": "Hi."}])
    Issue.objects.filter(pk=issue.pk).update(send_started_at=timezone.now() - datetime.timedelta(hours=1))
    return issue


@pytest.fixture
def link(sent_issue):
    return TrackedLink.objects.create(issue=sent_issue, section=sent_issue.sections.first(), url=TARGET, position=1)


def counts(link):
    link.refresh_from_db()
    return {kind: getattr(link, kind) for kind in ("clicks", "heads", "early", "limited")}


def test_a_short_link_redirects_to_its_target_and_counts_one_click(client, link):
    response = client.get(link.path)

    assert response.status_code == 302 and response["Location"] == TARGET
    assert response.cookies == {} or "sessionid" not in response.cookies
    assert counts(link) == {"clicks": 1, "heads": 0, "early": 0, "limited": 0}


@override_settings(REDIS_URL="redis://counted-in-the-cache", CACHES=LOCMEM)
def test_with_a_cache_the_click_is_counted_once_after_the_flush(client, link):
    assert client.get(link.path).status_code == 302
    assert counts(link)["clicks"] == 0  # not yet in the database

    assert flush_reach_counts() == 1
    assert flush_reach_counts() == 0

    assert counts(link) == {"clicks": 1, "heads": 0, "early": 0, "limited": 0}


def test_head_requests_and_the_canary_are_not_counted_as_clicks(client, link, sent_issue):
    canary = TrackedLink.objects.create(
        issue=sent_issue, url="http://testserver/weekly/sent-one/", position=2, canary=True
    )

    assert client.head(link.path).status_code == 302
    assert client.get(canary.path).status_code == 302

    assert counts(link) == {"clicks": 0, "heads": 1, "early": 0, "limited": 0}
    assert list(TrackedLink.objects.filter(issue=sent_issue, canary=False).values_list("clicks", flat=True)) == [0]


def test_clicks_within_seconds_of_the_send_are_counted_apart(client, link, sent_issue):
    Issue.objects.filter(pk=sent_issue.pk).update(send_started_at=timezone.now() - datetime.timedelta(seconds=2))

    assert client.get(link.path).status_code == 302

    assert counts(link) == {"clicks": 0, "heads": 0, "early": 1, "limited": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/r/{id}.{sig}x",
        "/r/{id}.0000000000aaaaaaaaaa",
        "/r/{other}.{sig}",
        "/r/99999.{sig}",
        "/r/{id}.{sig_of_elsewhere}",
    ],
)
def test_a_tampered_or_unknown_short_link_is_a_404_page_never_a_redirect(client, link, path):
    url = path.format(
        id=link.pk,
        sig=link.signature,
        other=link.pk + 1,
        sig_of_elsewhere=link_signature(link.pk, "https://evil.example/"),
    )

    response = client.get(url)

    assert response.status_code == 404 and "Location" not in response
    assert b"<html" in response.content.lower()
    assert counts(link)["clicks"] == 0


def test_a_url_that_was_not_in_the_issue_cannot_be_reached(client, link):
    # Whatever is appended or substituted, the redirect goes only to the stored target.
    for path in (f"{link.path}?next=https://evil.example/", f"{link.path}/https://evil.example/"):
        response = client.get(path)
        assert response.status_code in (302, 404)
        assert response.status_code == 404 or response["Location"] == TARGET
    forged = TrackedLink(pk=link.pk, issue=link.issue, url="https://evil.example/")
    assert client.get(forged.path).status_code == 404


@override_settings(REACH_CLICKS_PER_MINUTE=3)
def test_a_flood_from_one_client_is_limited_and_cannot_grow_the_counters(client, link):
    statuses = [client.get(link.path).status_code for _ in range(20)]

    assert statuses[:3] == [302] * 3 and set(statuses[3:]) == {429}
    assert counts(link) == {"clicks": 3, "heads": 0, "early": 0, "limited": 1}
