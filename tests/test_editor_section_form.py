"""The section form on the issue page: editor.js renumbers every row's hidden position, new rows included,
so a new row whose only change is its position is one the editor never wrote in, and is not saved."""

import pytest

from newsletter.admin.content import SectionForm

pytestmark = pytest.mark.django_db


def new_row(data):
    return SectionForm(data={"kind": "article", "position": "0", **data}, initial={"kind": "article", "position": 0})


def test_a_new_row_with_only_its_position_renumbered_is_not_a_change():
    assert not new_row({"position": "4"}).has_changed()


def test_a_new_row_with_anything_written_in_is_a_change():
    assert new_row({"position": "4", "heading": "Roadworks"}).has_changed()
    assert new_row({"kind": "event"}).has_changed()


def test_a_saved_section_moved_to_another_position_is_a_change(make_issue):
    issue = make_issue(status="draft", sections=[{"heading": "Budgets"}])
    section = issue.sections.get()
    data = {"issue": issue.pk, "kind": section.kind, "heading": section.heading, "position": "2"}
    assert SectionForm(data=data, instance=section).has_changed()
