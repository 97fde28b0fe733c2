"""The composer's links and images (newsletter/editor/parts.py): a link added, edited and removed, an image's alt
text changed, each through a ModelForm (http, https and mailto only), with a version check, and the models'
signals withdrawing an approval."""

import pytest

from newsletter.models import Issue, SectionImage
from tests.test_editor_compose import draft, post_json, url  # noqa: F401
from tests.test_editor_review import login

pytestmark = pytest.mark.django_db


def parts(client, draft, section, body):  # noqa: F811
    return post_json(client, url("compose_parts", draft, section.pk), body)


def section_data(client, draft, heading):  # noqa: F811
    data = client.get(url("compose_data", draft)).json()
    return next(s for s in data["sections"] if s["heading"] == heading)


def test_links_are_added_edited_and_removed_with_the_models_rules(client, draft):  # noqa: F811
    editor = login(client, "ed")
    Issue.objects.approve(draft.pk, by=editor)
    parks = draft.sections.get(heading="Parks")

    for bad in ("javascript:alert(1)", "ftp://example.org/file", "data:text/html,x", "mailto:not an address", ""):
        refused = parts(client, draft, parks, {"action": "add-link", "url": bad, "title": "Bad"})
        assert refused.status_code == 400 and "url" in refused.json()["errors"], bad
    draft.refresh_from_db()
    assert draft.approved_at is not None and not parks.links.exists()  # refused: nothing written

    added = parts(
        client, draft, parks, {"action": "add-link", "url": "https://example.org/benches", "title": "Benches"}
    )
    assert added.status_code == 200, added.content
    assert [link["title"] for link in added.json()["links"]] == ["Benches"]
    mail = parts(client, draft, parks, {"action": "add-link", "url": "mailto:parks@example.org", "title": "Write"})
    assert mail.status_code == 200, mail.content
    assert [(link.url, link.position) for link in parks.links.all()] == [
        ("https://example.org/benches", 1),
        ("mailto:parks@example.org", 2),
    ]
    draft.refresh_from_db()
    assert draft.approved_at is None and draft.approval_withdrawn_at is not None  # models/sections.py signals

    link = section_data(client, draft, "Parks")["links"][0]
    edit = {"action": "save-link", "id": link["id"], "url": "https://example.org/b", "title": "New benches"}
    saved = parts(client, draft, parks, {**edit, "version": link["version"]})
    assert saved.status_code == 200
    assert parks.links.get(pk=link["id"]).title == "New benches"
    # A second editor with the version loaded before: 409 with the links as stored, nothing written.
    stale = parts(client, draft, parks, {**edit, "title": "Theirs", "version": link["version"]})
    assert stale.status_code == 409 and stale.json()["links"][0]["title"] == "New benches"
    assert parks.links.get(pk=link["id"]).title == "New benches"
    bad = parts(client, draft, parks, {**edit, "url": "javascript:x", "version": stale.json()["links"][0]["version"]})
    assert bad.status_code == 400 and parks.links.get(pk=link["id"]).url == "https://example.org/b"

    current = section_data(client, draft, "Parks")["links"][0]
    removed = parts(client, draft, parks, {"action": "remove-link", "id": current["id"], "version": current["version"]})
    assert removed.status_code == 200
    assert list(parks.links.values_list("url", flat=True)) == ["mailto:parks@example.org"]


def test_an_images_alt_text_is_changed_and_cannot_be_emptied(client, draft):  # noqa: F811
    login(client, "ed")
    parks = draft.sections.get(heading="Parks")
    image = SectionImage.objects.create(section=parks, image="sections/2011/05/bench.jpg", alt_text="bench")
    shown = section_data(client, draft, "Parks")["images"][0]
    assert shown["alt"] == "bench" and shown["url"].endswith("bench.jpg")
    empty = parts(
        client, draft, parks, {"action": "save-image", "id": image.pk, "alt": "", "version": shown["version"]}
    )
    assert empty.status_code == 400 and "alt" in empty.json()["errors"]
    saved = parts(
        client,
        draft,
        parks,
        {"action": "save-image", "id": image.pk, "alt": "A new bench by the pond", "version": shown["version"]},
    )
    assert saved.status_code == 200 and saved.json()["images"][0]["alt"] == "A new bench by the pond"
    image.refresh_from_db()
    assert image.alt_text == "A new bench by the pond"
    again = parts(
        client, draft, parks, {"action": "save-image", "id": image.pk, "alt": "x", "version": shown["version"]}
    )
    assert again.status_code == 409


def test_parts_of_a_sent_issue_or_another_issue_are_not_written(client, draft, make_issue):  # noqa: F811
    login(client, "ed")
    parks = draft.sections.get(heading="Parks")
    other = make_issue("Other", status="draft", sections=[{"heading": "Elsewhere"}])
    elsewhere = other.sections.get()
    assert parts(client, draft, elsewhere, {"action": "add-link", "url": "https://example.org"}).status_code == 404
    assert parts(client, draft, parks, {"action": "explode"}).status_code == 400
    Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENT)
    sent = parts(client, draft, parks, {"action": "add-link", "url": "https://example.org"})
    assert sent.status_code == 409 and not parks.links.exists()
