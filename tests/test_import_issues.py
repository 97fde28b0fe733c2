"""import_issues: past issues from a Substack export and from Markdown files with front matter, through the seed
importer's load step: idempotent by source hash, sanitised, one transaction per file, one error line per bad file."""

import datetime
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from newsletter.models import Issue, Link, Newsletter, Section

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
SUBSTACK = FIXTURES / "substack-export"
MARKDOWN = FIXTURES / "markdown-issues"


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_issues", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def rows():
    """Everything the import wrote, as comparable values."""
    return (
        list(Issue.objects.order_by("pk").values_list("pk", "title", "issue_date", "source_file", "source_hash")),
        list(Section.objects.order_by("pk").values_list("pk", "heading", "body_markdown")),
        list(Link.objects.order_by("pk").values_list("pk", "url")),
    )


def test_a_substack_export_imports_its_published_posts_sanitised():
    out, err, failed = run("--from", "substack", SUBSTACK, "--newsletter", "weekly-update")

    assert not failed and not err
    assert "skipped: 140100000.a-draft.html: a draft (not published)" in out
    assert "skipped: 140100001.about.html: a page" in out
    issue = Issue.objects.get(source_file="139524781.weekly-update-1.html")
    assert issue.status == Issue.Status.IMPORTED and issue.newsletter.slug == "weekly-update"
    assert issue.title == "Weekly update 1: bridges and budgets"
    assert issue.issue_date == datetime.date(2024, 1, 12) and issue.intro == "The council's week, in five minutes"
    assert [s.heading for s in issue.sections.order_by("position")] == ["", "Housing", "Transport"]
    housing = issue.sections.get(heading="Housing")
    assert "[published its housing plan](https://example.org/housing-plan)" in housing.body_markdown
    assert [link.url for link in housing.links.order_by("position")] == [
        "https://example.org/housing-plan",
        "https://example.org/consult",
    ]
    bodies = " ".join(Section.objects.values_list("body_markdown", flat=True))
    for unwanted in ("<script", "alert", "javascript:", "onclick", "Subscribe", "substackcdn", "<svg"):
        assert unwanted not in bodies
    assert "The new footbridge opened on Monday." in bodies  # a figure's caption stays as text
    assert Issue.objects.count() == 2


def test_importing_a_substack_export_twice_gives_the_same_rows():
    run("--from", "substack", SUBSTACK, "--newsletter", "weekly-update")
    before = rows()

    out, _, failed = run("--from", "substack", SUBSTACK, "--newsletter", "weekly-update")

    assert not failed and rows() == before
    assert out.count("1 issue — 0 created, 1 unchanged") == 2


def test_markdown_files_with_front_matter_import_and_import_twice_the_same(tmp_path):
    _out, err, failed = run("--from", "markdown", MARKDOWN)
    before = rows()
    again, _, _ = run("--from", "markdown", MARKDOWN)

    assert not failed and not err and rows() == before and again.count("1 unchanged") == 2
    five = Issue.objects.get(source_file="2024-02-02-weekly-5.md")
    assert five.newsletter.slug == "weekly-update" and five.intro.startswith("Housing plan responses")
    assert sorted(five.tags.values_list("name", flat=True)) == ["housing", "transport"]
    assert [s.heading for s in five.sections.order_by("position")] == ["", "Housing plan", "Timetable"]
    assert "## not a heading" in five.sections.get(heading="Timetable").body_markdown
    six = Issue.objects.get(source_file="2024-02-09-weekly-6.markdown")
    assert six.newsletter.slug == "markdown-issues"  # no newsletter in its front matter: the folder's name
    assert six.issue_date == datetime.date(2024, 2, 1) and six.date_precision == "month"
    assert Newsletter.objects.count() == 2


def test_a_changed_file_is_reported_and_refreshed_only_with_update(tmp_path):
    folder = tmp_path / "md"
    shutil.copytree(MARKDOWN, folder)
    run("--from", "markdown", folder)
    path = folder / "2024-02-02-weekly-5.md"
    path.write_text(path.read_text().replace("A quiet week, mostly.", "A busy week."))

    changed, _, _ = run("--from", "markdown", folder)
    assert "1 changed" in changed
    assert Section.objects.filter(body_markdown="A quiet week, mostly.").exists()
    updated, _, _ = run("--from", "markdown", folder, "--update")

    assert "1 updated" in updated and Section.objects.filter(body_markdown="A busy week.").exists()


def test_a_bad_file_is_named_and_leaves_nothing_while_the_others_import(tmp_path, settings):
    folder = tmp_path / "md"
    shutil.copytree(MARKDOWN, folder)
    (folder / "broken.md").write_text("---\ntitle: Broken\ncolour: blue\n---\nText\n")
    (folder / "untitled.md").write_text("No front matter here.\n")
    (folder / "big.md").write_text("---\ntitle: Big\n---\n" + "word " * 2000)
    settings.IMPORT_MAX_FILE_BYTES = 5000

    _out, err, failed = run("--from", "markdown", folder)

    assert failed == "3 file(s) could not be imported; the others were."
    assert "error: broken.md: line 3: unknown key “colour”; the keys are title, date, newsletter, tags" in err
    assert "error: untitled.md: no front matter: the file must start with a line ---" in err
    assert "error: big.md: too large (10,019 bytes; the limit is 5,000, set by IMPORT_MAX_FILE_BYTES)" in err
    assert sorted(Issue.objects.values_list("source_file", flat=True)) == [
        "2024-02-02-weekly-5.md",
        "2024-02-09-weekly-6.markdown",
    ]


def test_a_file_that_fails_while_loading_is_rolled_back_whole():
    _out, err, failed = run("--from", "substack", SUBSTACK, "--newsletter", "admin")

    assert "error: 139524781.weekly-update-1.html: newsletter slug “admin” is used by the site's own pages" in err
    assert failed and not Issue.objects.exists() and not Section.objects.exists() and not Link.objects.exists()


def test_a_substack_export_missing_a_post_or_its_csv(tmp_path):
    shutil.copytree(SUBSTACK, tmp_path / "export")
    (tmp_path / "export" / "posts" / "139877002.weekly-update-2.html").unlink()

    _, err, failed = run("--from", "substack", tmp_path / "export", "--newsletter", "weekly-update")
    assert "error: posts/139877002.weekly-update-2.html: no such file (listed in posts.csv)" in err
    assert failed and Issue.objects.count() == 1

    (tmp_path / "export" / "posts.csv").write_text("id,name\n1,x\n")
    _, err, _ = run("--from", "substack", tmp_path / "export")
    assert "error: posts.csv: not a Substack export (no column post_id, post_date, is_published, title)" in err


def test_dry_run_writes_nothing():
    out, _, _ = run("--from", "substack", SUBSTACK, "--dry-run")

    assert "139524781.weekly-update-1.html: 1 issue(s) would be imported into substack-export" in out
    assert not Issue.objects.exists() and not Newsletter.objects.exists()
