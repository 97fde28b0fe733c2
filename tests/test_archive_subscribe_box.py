"""Issue 17: the archive's subscribe box is rendered once per language and list of newsletters, and reused.

Reusing it must never show a stale or foreign box: a renamed newsletter, another newsletter's page, the other
language and the home page's list each get their own, equal to what a fresh render gives.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from newsletter.templatetags import subscribe_form

pytestmark = pytest.mark.django_db


def box(response):
    html = response.content.decode()
    start = html.index('<section class="subscribe-box"')
    return html[start : html.index("</section>", start)]


def test_the_box_follows_the_newsletter_its_name_and_the_language(client, newsletter, make_newsletter, rich_issue):
    page = rich_issue.get_absolute_url()
    assert f"Get {newsletter.name} by email" in box(client.get(page))
    assert f'value="{newsletter.slug}"' in box(client.get(page))

    newsletter.name = "The Renamed Bulletin"
    newsletter.save()
    assert "Get The Renamed Bulletin by email" in box(client.get(page))

    other = make_newsletter(name="Parish Notes", slug="parish-notes")
    other_box = box(client.get(other.get_absolute_url()))
    assert "Get Parish Notes by email" in other_box and 'value="parish-notes"' in other_box

    welsh = box(client.get("/cy" + page))
    assert welsh != box(client.get(page))
    assert 'action="/cy/subscribe/"' in welsh


def test_the_reused_box_is_what_a_fresh_render_gives(client, newsletter, make_newsletter, rich_issue):
    make_newsletter(name="Parish Notes", slug="parish-notes")
    pages = [reverse("archive:home"), rich_issue.get_absolute_url(), "/cy" + rich_issue.get_absolute_url()]
    reused = [box(client.get(page)) for page in pages]
    reused_again = [box(client.get(page)) for page in pages]

    subscribe_form._box.cache_clear()
    fresh = [box(client.get(page)) for page in pages]
    assert reused == reused_again == fresh
    assert len(set(fresh)) == 3


def test_the_box_renders_in_the_language_active_when_it_is_asked_for(newsletter):
    with translation.override("cy"):
        welsh = subscribe_form._box("cy", ((newsletter.slug, newsletter.name),), True)
    english = subscribe_form._box("en-gb", ((newsletter.slug, newsletter.name),), True)
    assert welsh != english
