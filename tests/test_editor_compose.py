"""The composer's JSON endpoints (newsletter/editor/compose.py, structure.py): the issue as JSON, saving with a
version check (a conflict writes nothing), the models' rules on every save, the outline's changes, the previews."""

import json
import re
import time
from pathlib import Path

import pytest
from django.urls import reverse

from newsletter.editor import paste
from newsletter.markup import markdown_problems
from newsletter.models import Issue, Section
from tests.test_editor_review import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_issue, newsletter):
    newsletter.sender_email = "news@example.org"
    newsletter.save()
    return make_issue(
        "Weekly update 31.05.11",
        status="draft",
        subject="This week",
        preheader="Parks and budgets",
        sections=[
            {"heading": "Parks", "body_markdown": "New benches. [Click here](https://example.org/parks)"},
            {"heading": "Round-up", "kind": Section.Kind.DIGEST, "items": [{"heading": "Care homes"}]},
            {"heading": "And lastly…", "kind": Section.Kind.CLOSING, "body_markdown": "Thanks."},
        ],
    )


def url(name, draft, *args):
    return reverse(f"editor:{name}", args=[draft.pk, *args])


def post_json(client, address, body):
    return client.post(address, json.dumps(body), content_type="application/json")


def outline(draft):
    return list(draft.sections.filter(parent=None).order_by("position").values_list("heading", "position"))


def test_the_page_and_its_data_show_the_sections_as_they_nest_with_their_findings(client, draft):
    login(client, "ed")
    page = client.get(url("compose", draft)).content.decode()
    assert 'id="composer"' in page and "compose.js" in page and "All fields" in page
    data = client.get(url("compose_data", draft)).json()
    assert [s["heading"] for s in data["sections"]] == ["Parks", "Round-up", "And lastly…"]
    group = data["sections"][1]
    assert [i["heading"] for i in group["items"]] == ["Care homes"]
    parks = data["sections"][0]["id"]
    assert any("Click here" in f["message"] for f in data["findings"][str(parks)])
    assert any(f["level"] == "error" for f in data["findings"][str(group["id"])])  # an empty group
    assert data["subject"] == "This week" and data["sender"] == draft.newsletter.name


def test_saving_a_section_checks_its_version_and_a_conflict_overwrites_nothing(client, draft):
    login(client, "ed")
    parks = draft.sections.get(heading="Parks")
    version = client.get(url("compose_data", draft)).json()["sections"][0]["version"]
    first = post_json(client, url("compose_section", draft, parks.pk), {"body_markdown": "Mine.", "version": version})
    assert first.status_code == 200, first.content
    assert first.json()["saved_at"]
    parks.refresh_from_db()
    assert parks.body_markdown == "Mine." and parks.body_html == "<p>Mine.</p>"

    # A second editor saves with the version they loaded before: 409, both texts, nothing written.
    second = post_json(
        client, url("compose_section", draft, parks.pk), {"body_markdown": "Theirs.", "version": version}
    )
    assert second.status_code == 409
    assert second.json()["theirs"]["body_markdown"] == "Mine."
    assert second.json()["yours"]["body_markdown"] == "Theirs."
    parks.refresh_from_db()
    assert parks.body_markdown == "Mine."
    # Keeping theirs after seeing the conflict: with the version the conflict gave.
    third = post_json(
        client,
        url("compose_section", draft, parks.pk),
        {"body_markdown": "Theirs.", "version": second.json()["version"]},
    )
    assert third.status_code == 200
    parks.refresh_from_db()
    assert parks.body_markdown == "Theirs."


def test_a_save_goes_through_the_models_rules(client, draft):
    editor = login(client, "ed")
    Issue.objects.approve(draft.pk, by=editor)
    parks = draft.sections.get(heading="Parks")
    data = client.get(url("compose_data", draft)).json()
    version = data["sections"][0]["version"]
    unsafe = post_json(
        client, url("compose_section", draft, parks.pk), {"body_markdown": "<script>x</script>", "version": version}
    )
    assert unsafe.status_code == 400 and "body_markdown" in unsafe.json()["errors"]
    draft.refresh_from_db()
    assert draft.approved_at is not None  # refused: nothing changed
    bad_date = post_json(
        client,
        url("compose_section", draft, parks.pk),
        {"kind": "event", "event_date": "not a date", "version": version},
    )
    assert bad_date.status_code == 400 and "event_date" in bad_date.json()["errors"]
    ok = post_json(
        client, url("compose_section", draft, parks.pk), {"heading": "Parks and benches", "version": version}
    )
    assert ok.status_code == 200
    draft.refresh_from_db()
    assert draft.approved_at is None and draft.approval_withdrawn_at is not None  # models/rules.py
    assert "Parks and benches" in draft.search_text


def test_subject_and_preheader_save_with_their_own_version(client, draft):
    login(client, "ed")
    version = client.get(url("compose_data", draft)).json()["version"]
    answer = post_json(client, url("compose_issue", draft), {"subject": "New subject", "version": version})
    assert answer.status_code == 200
    draft.refresh_from_db()
    assert draft.subject == "New subject" and draft.preheader == "Parks and budgets"
    assert post_json(client, url("compose_issue", draft), {"subject": "Old", "version": version}).status_code == 409


def test_add_duplicate_remove_and_reorder(client, draft):
    login(client, "ed")
    structure = url("compose_structure", draft)
    added = post_json(client, structure, {"action": "add", "kind": "article"}).json()
    assert [s["heading"] for s in added["sections"]] == ["Parks", "Round-up", "", "And lastly…"]  # before closing
    new_id = added["selected"]
    parks = draft.sections.get(heading="Parks")
    copied = post_json(client, structure, {"action": "duplicate", "id": parks.pk}).json()
    assert [s["heading"] for s in copied["sections"]][:2] == ["Parks", "Parks (copy)"]
    group = draft.sections.get(heading="Round-up")
    item = post_json(client, structure, {"action": "add", "parent": group.pk}).json()
    assert len(next(s for s in item["sections"] if s["id"] == group.pk)["items"]) == 2
    order = [s["id"] for s in copied["sections"]]
    order.insert(0, order.pop(order.index(new_id)))
    post_json(client, structure, {"action": "reorder", "parent": None, "order": order})
    assert [h for h, _ in outline(draft)] == ["", "Parks", "Parks (copy)", "Round-up", "And lastly…"]
    assert [p for _, p in outline(draft)] == [1, 2, 3, 4, 5]
    post_json(client, structure, {"action": "remove", "id": new_id})
    assert [h for h, _ in outline(draft)] == ["Parks", "Parks (copy)", "Round-up", "And lastly…"]
    bad = post_json(client, structure, {"action": "reorder", "parent": None, "order": order})
    assert bad.status_code == 400


def test_a_sent_issue_is_not_written_and_a_reader_cannot_write(client, draft, make_issue):
    login(client, "ed")
    sent = make_issue("Old", status=Issue.Status.SENT, sections=[{"heading": "Gone"}])
    section = sent.sections.get()
    answer = post_json(client, url("compose_section", sent, section.pk), {"heading": "x", "version": "whatever"})
    assert answer.status_code == 409
    assert post_json(client, url("compose_structure", sent), {"action": "add"}).status_code == 409


def test_writes_need_the_csrf_token(draft):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login(client, "ed")
    answer = post_json(client, url("compose_structure", draft), {"action": "add"})
    assert answer.status_code == 403


def test_previews_come_from_the_sending_code_with_an_id_on_each_section(client, draft):
    login(client, "ed")
    email = client.get(url("compose_email_preview", draft))
    parks = draft.sections.get(heading="Parks")
    item = draft.sections.get(heading="Care homes")
    html = email.content.decode()
    assert re.search(f'<h2 id="compose-{parks.pk}"[^>]*>Parks</h2>', html)
    assert re.search(f'<h3 id="compose-{item.pk}"[^>]*>Care homes</h3>', html)
    assert "script-src" not in email["Content-Security-Policy"] and "sandbox" in email["Content-Security-Policy"]
    text = client.get(url("compose_text_preview", draft))
    assert text["Content-Type"].startswith("text/plain") and "New benches." in text.content.decode()


def test_presence_names_the_other_editor(client, draft, fresh_cache):
    from django.test import Client

    login(client, "ed")
    other = Client()
    login(other, "jo")
    client.get(url("compose_data", draft))
    answer = other.post(url("compose_presence", draft)).json()
    assert [o["name"] for o in answer["others"]] == ["ed"]
    assert client.post(url("compose_presence", draft)).json()["others"][0]["name"] == "jo"


def test_the_issue_page_links_to_the_composer(client, draft):
    login(client, "ed")
    page = client.get(reverse("admin:newsletter_issue_change", args=[draft.pk])).content.decode()
    assert f'<a href="{url("compose", draft)}">Compose</a>' in page


# Paste ----------------------------------------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_word_and_outlook_pastes_become_clean_markdown():
    word = paste.convert((FIXTURES / "paste-word.html").read_text())
    assert word.markdown.startswith("### Care homes funding review")
    assert "**review of care home fees**" in word.markdown and "*30 June*" in word.markdown
    assert "- Residential care fees rise by 2.1%\n- Nursing care fees are frozen" in word.markdown
    assert "1. Read the document\n2. Email [fees@example.gov.uk](mailto:fees@example.gov.uk)" in word.markdown
    assert "utm_" not in word.markdown and "page=2" in word.markdown
    for junk in ("mso", "Calibri", "o:p", "<", "\n\n\n", "StartFragment"):
        assert junk not in word.markdown
    outlook = paste.convert((FIXTURES / "paste-outlook.html").read_text())
    assert "fbclid" not in outlook.markdown and "?ref=newsletter" in outlook.markdown
    assert "javascript" not in outlook.markdown and "Sign up here or call" in outlook.markdown
    assert "base64" not in outlook.markdown and len(outlook.notes) == 2


def test_hostile_paste_is_made_safe_or_refused():
    html = (
        '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">there</a>'
        '<a href=" JAVASCRIPT:alert(1)">you</a> &lt;script&gt;alert(2)&lt;/script&gt;</p>'
        '<img src="x" onerror="alert(3)"><iframe src="https://evil.example"></iframe><style>p{}</style>'
    )
    result = paste.convert(html)
    assert "alert(1)" not in result.markdown and "javascript" not in result.markdown.lower()
    assert "&lt;script>alert(2)" in result.markdown  # text that looks like a tag stays text
    assert not markdown_problems(result.markdown)
    with pytest.raises(paste.PasteRefused, match="MB"):
        paste.convert("<p>x</p>" * (paste.MAX_PASTE_CHARS // 8 + 1))


def test_a_one_megabyte_word_paste_converts_quickly():
    """The figure is in docs/editor.md (Composing: paste)."""
    fragment = (FIXTURES / "paste-word.html").read_text()
    body = fragment.split("<!--StartFragment-->")[1].split("<!--EndFragment-->")[0]
    html = fragment.replace(body, body * (1_000_000 // len(body) + 1))
    assert len(html) >= 1_000_000
    started = time.perf_counter()
    result = paste.convert(html)
    seconds = time.perf_counter() - started
    print(f"1 MB Word paste ({len(html):,} characters) converted in {seconds:.2f} s")
    assert seconds < 10
    assert result.markdown.count("- Residential care fees rise by 2.1%") > 100


def test_the_paste_endpoint(client, draft):
    login(client, "ed")
    answer = client.post(url("compose_paste", draft), {"html": (FIXTURES / "paste-word.html").read_text()})
    assert answer.status_code == 200 and answer.json()["markdown"].startswith("### Care homes")
    refused = client.post(url("compose_paste", draft), {"html": "x" * (paste.MAX_PASTE_CHARS + 1)})
    assert refused.status_code == 400 and "MB of markup" in refused.json()["error"]


def test_a_section_moves_into_the_group_above_and_out_again_one_level_only(client, draft):
    editor = login(client, "ed")
    structure = url("compose_structure", draft)
    group = draft.sections.get(heading="Round-up")
    parks = draft.sections.get(heading="Parks")
    closing = draft.sections.get(heading="And lastly…")
    # Parks has no group above it; a closing section and a group stay at the top level.
    assert post_json(client, structure, {"action": "nest", "id": parks.pk}).status_code == 400
    assert post_json(client, structure, {"action": "nest", "id": closing.pk}).status_code == 400
    post_json(client, structure, {"action": "reorder", "parent": None, "order": [group.pk, parks.pk, closing.pk]})
    Issue.objects.approve(draft.pk, by=editor)

    nested = post_json(client, structure, {"action": "nest", "id": parks.pk})
    assert nested.status_code == 200, nested.content
    parks.refresh_from_db()
    assert parks.parent_id == group.pk and parks.kind == Section.Kind.DIGEST_ITEM and parks.position == 2
    assert [h for h, _ in outline(draft)] == ["Round-up", "And lastly…"] and [p for _, p in outline(draft)] == [1, 2]
    shown = next(s for s in nested.json()["sections"] if s["id"] == group.pk)
    assert [i["heading"] for i in shown["items"]] == ["Care homes", "Parks"] and nested.json()["selected"] == parks.pk
    draft.refresh_from_db()
    assert draft.approved_at is None  # Section.save(): the models' rules
    # An item cannot go one level deeper.
    assert post_json(client, structure, {"action": "nest", "id": parks.pk}).status_code == 400

    care = draft.sections.get(heading="Care homes")
    out = post_json(client, structure, {"action": "unnest", "id": care.pk})
    assert out.status_code == 200
    care.refresh_from_db()
    assert care.parent_id is None and care.kind == Section.Kind.ARTICLE
    assert outline(draft) == [("Round-up", 1), ("Care homes", 2), ("And lastly…", 3)]
    assert list(group.items.values_list("heading", "position")) == [("Parks", 1)]
    assert post_json(client, structure, {"action": "unnest", "id": care.pk}).status_code == 400


def test_topics_are_chosen_and_saved_like_the_other_fields(client, draft, make_newsletter):
    from newsletter.models import Topic

    editor = login(client, "ed")
    parks_topic = Topic.objects.create(newsletter=draft.newsletter, name="Parks", slug="parks", position=1)
    care = Topic.objects.create(newsletter=draft.newsletter, name="Care", slug="care", position=2)
    foreign = Topic.objects.create(newsletter=make_newsletter("Other"), name="Elsewhere", slug="elsewhere")
    data = client.get(url("compose_data", draft)).json()
    assert data["topics"] == [{"id": parks_topic.pk, "name": "Parks"}, {"id": care.pk, "name": "Care"}]
    shown = data["sections"][0]
    assert shown["topics"] == []
    parks = draft.sections.get(heading="Parks")
    Issue.objects.approve(draft.pk, by=editor)

    refused = post_json(
        client, url("compose_section", draft, parks.pk), {"topics": [foreign.pk], "version": shown["version"]}
    )
    assert refused.status_code == 400 and "topics" in refused.json()["errors"]
    saved = post_json(
        client,
        url("compose_section", draft, parks.pk),
        {"topics": [care.pk, parks_topic.pk], "version": shown["version"]},
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["fields"]["topics"] == sorted([care.pk, parks_topic.pk])
    assert set(parks.topics.all()) == {parks_topic, care}
    draft.refresh_from_db()
    assert draft.approved_at is None
    # The version covers the topics: a save from the version loaded before is a conflict.
    stale = post_json(client, url("compose_section", draft, parks.pk), {"topics": [], "version": shown["version"]})
    assert stale.status_code == 409 and stale.json()["theirs"]["topics"] == sorted([care.pk, parks_topic.pk])
    # A save of other fields keeps the topics.
    heading = post_json(
        client, url("compose_section", draft, parks.pk), {"heading": "Parks!", "version": saved.json()["version"]}
    )
    assert heading.status_code == 200 and set(parks.topics.all()) == {parks_topic, care}
