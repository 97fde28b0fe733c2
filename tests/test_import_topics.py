"""Issue 13: imported sections get the topics an editor defined where the seed's own tags or digest-group headings
name them (by slug or name, case-insensitive); re-running the import, --update included, never undoes an editor's
choice. Through the import_seeds command."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletter.models import Newsletter, Section, Topic

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
BUDGETS = "002_d9b6d64c7e93d693"  # community-budgets: digest groups "BWB weekly update/review of government websites"
STAFFS = "004_9e0de07ecf4a4ad1"  # staffordshire-chief-executive: five posts tagged "children’s services"
pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("import_seeds", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def copy_seed(tmp_path, stem):
    for suffix in (".txt", ".meta.toml"):
        shutil.copy(SEEDS / f"{stem}{suffix}", tmp_path / f"{stem}{suffix}")
    return tmp_path / f"{stem}.txt"


def topic(newsletter_slug, name, slug):
    newsletter, _ = Newsletter.objects.get_or_create(slug=newsletter_slug, defaults={"name": newsletter_slug})
    return Topic.objects.create(newsletter=newsletter, name=name, slug=slug)


def tagged(topic):
    return sorted(topic.sections.values_list("issue__title", "heading"))


def test_digest_headings_and_tags_that_match_a_topic_give_sections_that_topic(tmp_path):
    bwb = topic("community-budgets", "bwb WEEKLY update of government websites", "government-websites")  # by name
    review = topic("community-budgets", "Reviews", "bwb-weekly-review-of-government-websites")  # by slug
    unused = topic("community-budgets", "Health", "health")
    children = topic("staffordshire-chief-executive", "Children's Services", "childrens-services")  # ’ vs '

    out = run(copy_seed(tmp_path, BUDGETS), copy_seed(tmp_path, STAFFS))

    assert tagged(bwb) == [
        ("Weekly update 17.05.11", "BWB weekly update of government websites"),
        ("Weekly update 24.05.11", "BWB weekly update of government websites"),
    ]
    assert {title for title, _ in tagged(review)} == {
        "Weekly update 10.05.11", "Weekly update 12.4.11", "Weekly update 30.3.11"
    }  # fmt: skip
    assert not tagged(unused)
    assert not Section.objects.filter(topics__isnull=False, parent__isnull=False).exists()  # digest items: never
    staffs = Section.objects.filter(issue__newsletter__slug="staffordshire-chief-executive", parent=None)
    assert staffs.count() > 5
    assert set(staffs.exclude(kind=Section.Kind.CLOSING).values_list("topics", flat=True)) == {children.pk}
    assert not staffs.filter(kind=Section.Kind.CLOSING, topics__isnull=False).exists()
    assert "5 sections given topics" in out  # community-budgets: 2 + 3


def test_topics_defined_after_the_first_import_apply_on_the_next_run_and_once(tmp_path):
    path = copy_seed(tmp_path, BUDGETS)
    run(path)
    bwb = topic("community-budgets", "BWB weekly update of government websites", "bwb")

    out = run(path)

    assert "10 unchanged" in out and "2 sections given topics" in out
    assert len(tagged(bwb)) == 2
    assert "given topics" not in run(path)  # nothing left to do


def test_a_topic_of_another_newsletter_is_never_given(tmp_path):
    other = topic("someone-else", "BWB weekly update of government websites", "bwb")
    run(copy_seed(tmp_path, BUDGETS))
    assert not tagged(other)


def test_rerunning_never_undoes_an_editors_choice_even_with_update(tmp_path):
    path = copy_seed(tmp_path, BUDGETS)
    bwb = topic("community-budgets", "BWB weekly update of government websites", "bwb")
    finance = topic("community-budgets", "Finance", "finance")
    run(path)
    untagged_by_editor, kept_by_importer = Section.objects.filter(topics=bwb).order_by("issue__title")
    assert untagged_by_editor.issue.title == "Weekly update 17.05.11"
    untagged_by_editor.topics.clear()  # the editor unticks the importer's topic…
    article = Section.objects.get(
        issue=kept_by_importer.issue, heading="Finance commission calls for the return of the business rate"
    )
    article.topics.add(finance)  # …and tags an article of the 24.05.11 issue, which the importer left untagged
    kept_by_importer.topics.add(finance)  # and adds a second topic to the other digest group

    run(path)
    # The 24.05.11 post changes in the seed: --update rewrites its sections, the editor's topics come over.
    path.write_text(path.read_text().replace("app-solutely fabulous", "app-solutely great"))
    out = run(path, "--update")

    assert "1 updated" in out
    assert not Section.objects.get(pk=untagged_by_editor.pk).topics.exists()
    rewritten = Section.objects.get(issue=kept_by_importer.issue, heading=kept_by_importer.heading)
    assert rewritten.pk != kept_by_importer.pk  # a new row…
    assert set(rewritten.topics.values_list("slug", flat=True)) == {"bwb", "finance"}  # …with the editor's topics
    assert list(
        Section.objects.get(issue=article.issue, heading=article.heading).topics.values_list("slug", flat=True)
    ) == ["finance"]
    assert "given topics" not in run(path, "--update")


def test_an_importer_topic_deleted_and_defined_again_is_given_again(tmp_path):
    path = copy_seed(tmp_path, BUDGETS)
    bwb = topic("community-budgets", "BWB weekly update of government websites", "bwb")
    run(path)
    bwb.delete()  # its sections keep a record of it, but it is gone: they are still the importer's to tag

    again = topic("community-budgets", "Government websites", "bwb-weekly-update-of-government-websites")
    out = run(path)

    assert "2 sections given topics" in out
    assert len(tagged(again)) == 2
