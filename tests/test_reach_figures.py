"""Reach (issue 14): after a send with clicks counted, editors see clicks per section and per link (an SVG bar chart
with no inline style), what was counted apart, unsubscribes, bounces and complaints beside them, and a CSV."""

import csv
import io

import pytest
from django.urls import reverse

from newsletter.models import Delivery, Subscriber, TrackedLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(make_issue):
    issue = make_issue(
        "Sent one",
        status="sent",
        sections=[{"heading": "Parks", "body_markdown": "Hi."}, {"heading": "Budgets", "body_markdown": "Yo."}],
    )
    parks, budgets = issue.sections.order_by("position")
    TrackedLink.objects.create(issue=issue, section=parks, url="https://parks.example/", position=1, clicks=7, heads=2)
    TrackedLink.objects.create(issue=issue, section=budgets, url="=cmd|evil", position=2, clicks=3, early=4)
    TrackedLink.objects.create(issue=issue, url="https://site.example/", position=3, canary=True, clicks=5)
    reader = Subscriber.objects.create(email="reader@example.com")
    Delivery.objects.create(issue=issue, subscriber=reader, status="sent", bounce=Delivery.Bounce.COMPLAINT)
    return issue


def _reach_section(page):
    start = page.index('<section class="reach"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("where", ["admin:newsletter_issue_change", "editor:review"])
def test_the_issue_page_and_review_show_clicks_per_section_and_per_link(admin_client, counted, where):
    page = admin_client.get(reverse(where, args=[counted.pk])).content.decode()

    reach = _reach_section(page)
    assert "10 clicks on links" in reach and "not who clicked" in reach
    assert reach.count("<svg") == 2 and "<title>Parks: 7</title>" in reach and "<title>Budgets: 3</title>" in reach
    assert "style=" not in reach  # the CSP allows no inline style
    assert "1 complaint" in reach and "0 bounces" in reach and "0 unsubscribes" in reach
    assert "2 HEAD requests" in reach and "4 on arrival" in reach and "5 on the hidden canary link" in reach


def test_the_clicks_download_as_csv_without_running_formulas(admin_client, counted):
    response = admin_client.get(reverse("reach:csv", args=[counted.pk]))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:4] == ["position", "section", "url", "clicks"]
    assert rows[1][:4] == ["1", "Parks", "https://parks.example/", "7"]
    assert rows[2][2] == "'=cmd|evil" and rows[3][-1] == "True"


def test_without_counted_links_no_figures_are_shown(admin_client, make_issue):
    issue = make_issue("Plain", status="sent")

    page = admin_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])).content.decode()

    assert '<section class="reach"' not in page


def test_the_csv_is_for_editors_only(client, counted):
    response = client.get(reverse("reach:csv", args=[counted.pk]))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_dashboard_lists_the_most_clicked_links_of_the_last_issues(admin_client, counted):
    from newsletter.models import Issue

    Issue.objects.filter(pk=counted.pk).update(send_started_at="2026-11-01T09:00:00Z")

    page = admin_client.get(reverse("admin:index")).content.decode()

    start = page.index('id="dash-clicks"')
    listed = page[start : page.index("</ol>", start)]
    assert listed.index("7 clicks: https://parks.example/") < listed.index("3 clicks: =cmd|evil")
    assert "site.example" not in listed  # the canary is never a click
