"""Revisions: every door that changes an issue records one snapshot per save; folding, approval, sending, pruning."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.editor import contributions
from newsletter.editor.weekly import start_next_issue
from newsletter.models import Contribution, Issue, Link, Revision, Section, Topic, revisions

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser("ed", "ed@example.org", "pw")


@pytest.fixture
def draft(make_issue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_issue(
            "Weekly update 31.05.11",
            status=Issue.Status.DRAFT,
            subject="Weekly update 31.05.11",
            sections=[
                {"heading": "Parks", "body_markdown": "New benches.", "links": ["https://example.org/parks"]},
                {"heading": "And lastly…", "kind": "closing", "body_markdown": "Bye."},
            ],
        )


def latest(issue):
    return Revision.objects.filter(issue=issue).order_by("-id").first()


def test_a_transaction_that_saves_an_issue_and_100_sections_records_one_snapshot(
    newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issue = Issue.objects.create(newsletter=newsletter, title="Big", slug="big", subject="Big one")
        for n in range(100):
            section = Section.objects.create(issue=issue, position=n, heading=f"Section {n}", body_markdown="Text")
            Link.objects.create(section=section, url=f"https://example.org/{n}")
    assert Revision.objects.filter(issue=issue).count() == 1
    data = latest(issue).data
    assert data["subject"] == "Big one"
    assert [s["heading"] for s in data["sections"]][:3] == ["Section 0", "Section 1", "Section 2"]
    assert data["sections"][5]["links"] == [{"url": "https://example.org/5", "title": "", "source": ""}]


def test_the_snapshot_holds_sections_in_reading_order_with_topics_event_fields_and_alt_text(rich_issue):
    data = revisions.snapshot(rich_issue)
    headings = [s["heading"] for s in data["sections"]]
    assert headings[1:5] == ["Weekly round-up", "Care homes", "Housing", "Data sharing"]
    event = next(s for s in data["sections"] if s["kind"] == "event")
    assert (event["event_date"], event["event_time"], event["fee"]) == ("2011-06-21", "10:30:00", "Free")
    assert set(data) >= {"subject", "preheader", "intro", "sign_off", "sections"}


def test_an_edit_records_a_revision_by_the_editor_editing(draft, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        section = draft.sections.get(heading="Parks")
        section.body_markdown = "New benches and a bandstand."
        with revisions.editing_as(editor):
            section.save()
    revision = latest(draft)
    assert revision.user == editor
    assert revision.data["sections"][0]["body_markdown"] == "New benches and a bandstand."


def test_the_middleware_records_who_saved_through_the_admin(draft, editor, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(editor)
    url = reverse("admin:newsletter_section_change", args=[draft.sections.get(heading="Parks").pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({k: v for k, v in _inline_management(page).items()})
    data["body_markdown"] = "Benches, changed in the admin."
    data["topics"] = []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    revision = latest(draft)
    assert revision.user == editor
    assert revision.data["sections"][0]["body_markdown"] == "Benches, changed in the admin."


def _inline_management(page):
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for form in formset.formset.forms:
            for name in form.fields:
                value = form[name].value()
                data[f"{form.prefix}-{name}"] = "" if value is None else value
    return data


def test_accepting_a_contribution_starting_next_week_and_tags_each_record_a_revision(
    draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft.tags.set([])
    contribution = Contribution.objects.create(newsletter=draft.newsletter, title="A new park", summary="Opens soon.")
    with django_capture_on_commit_callbacks(execute=True):
        contributions.accept(contribution, draft)
    assert "A new park" in [s["heading"] for s in latest(draft).data["sections"]]
    with django_capture_on_commit_callbacks(execute=True):
        following = start_next_issue(draft)
    assert latest(following) is not None
    assert latest(following).data["title"] == following.title


def test_a_topic_ticked_on_a_section_is_a_revision(draft, django_capture_on_commit_callbacks):
    topic = Topic.objects.create(newsletter=draft.newsletter, name="Health", slug="health")
    with django_capture_on_commit_callbacks(execute=True):
        draft.sections.get(heading="Parks").topics.add(topic)
    assert latest(draft).data["sections"][0]["topics"] == ["Health"]


def test_import_update_records_a_revision(tmp_path, settings, django_capture_on_commit_callbacks):
    seed = tmp_path / "update.txt"
    seed.write_text("Weekly update 24.05.11\n\nParks\nNew benches in the park.\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_seeds", str(seed), "--newsletter", "weekly")
    issue = Issue.objects.get()
    first = latest(issue)
    assert first is not None
    seed.write_text("Weekly update 24.05.11\n\nParks\nNew benches and swings in the park.\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_seeds", str(seed), "--newsletter", "weekly", "--update")
    assert latest(issue).data != first.data
    assert "swings" in str(latest(issue).data)


def test_saves_by_one_editor_within_minutes_fold_and_another_editors_do_not(draft, editor):
    other = get_user_model().objects.create_user("other", is_staff=True)
    revisions.record(draft.pk, user=editor)
    Issue.objects.filter(pk=draft.pk).update(intro="One")
    first = revisions.record(draft.pk, user=editor)
    Issue.objects.filter(pk=draft.pk).update(intro="Two")
    folded = revisions.record(draft.pk, user=editor)
    assert folded.pk == first.pk and folded.saves == 2 and folded.data["intro"] == "Two"
    Issue.objects.filter(pk=draft.pk).update(intro="Three")
    assert revisions.record(draft.pk, user=other).pk != first.pk
    Issue.objects.filter(pk=draft.pk).update(intro="Four")
    Revision.objects.filter(issue=draft).update(updated_at=timezone.now() - datetime.timedelta(minutes=10))
    assert revisions.record(draft.pk, user=other).saves == 1


def test_an_unchanged_save_adds_no_revision(draft):
    first = revisions.record(draft.pk)
    assert revisions.record(draft.pk) == first
    assert Revision.objects.filter(issue=draft).count() == 1


def test_approving_marks_the_revision_and_a_later_change_is_not_folded_into_it(draft, editor):
    assert Issue.objects.approve(draft.pk, by=editor)
    approved = revisions.approved_revision(draft)
    assert approved.approved_by == editor
    Issue.objects.filter(pk=draft.pk).update(intro="Changed")
    after = revisions.record(draft.pk, user=editor)
    assert after.pk != approved.pk
    assert not revisions.approval_is_current(Issue.objects.get(pk=draft.pk))


def test_starting_a_send_marks_the_sent_revision(draft):
    assert Issue.objects.move(draft.pk, Issue.Status.DRAFT, Issue.Status.SENDING)
    assert latest(draft).sent_at is not None


def test_prune_keeps_the_approved_the_sent_and_the_latest_revisions(draft, editor):
    old = timezone.now() - datetime.timedelta(days=400)
    made = []
    for n in range(4):
        Issue.objects.filter(pk=draft.pk).update(intro=f"Version {n}")
        made.append(revisions.record(draft.pk, fold=False))
    Revision.objects.filter(pk=made[1].pk).update(approved_at=old)
    Revision.objects.filter(pk=made[2].pk).update(sent_at=old)
    Revision.objects.update(updated_at=old, created_at=old)
    fresh = revisions.record(draft.pk)  # unchanged: the latest stays made[3]
    assert fresh == made[3]
    assert Revision.objects.prune(days=30) == 2  # the first (made with the draft) and made[0]
    assert set(Revision.objects.values_list("pk", flat=True)) == {made[1].pk, made[2].pk, made[3].pk}
