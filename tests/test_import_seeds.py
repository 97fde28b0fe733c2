"""The import_seeds command: loading, idempotency, updates, bad files and the dry-run contract."""

import json
import random
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from newsletter.importer import load
from newsletter.models import Comment, Issue, Link, Newsletter, Section

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
pytestmark = pytest.mark.django_db
# 4 KB of random bytes 0x01-0x1f: valid UTF-8, no NUL, and no text.
CONTROL_BYTES = bytes(random.Random(4).choices(range(0x01, 0x20), k=4096))


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_seeds", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def copy_seed(tmp_path, stem="002_d9b6d64c7e93d693"):
    for suffix in (".txt", ".meta.toml"):
        shutil.copy(SEEDS / f"{stem}{suffix}", tmp_path / f"{stem}{suffix}")
    return tmp_path / f"{stem}.txt"


def test_it_imports_every_seed_as_past_issues():
    out, _ = run()
    assert Issue.objects.count() == 18
    assert set(Issue.objects.values_list("status", flat=True)) == {"imported"}
    assert Newsletter.objects.count() == 5
    assert Issue.objects.filter(newsletter__slug="community-budgets").count() == 10
    assert "002_d9b6d64c7e93d693.txt: 10 issues — 10 created" in out


def test_it_stores_sections_in_order_with_digest_items_links_and_events():
    run(SEEDS / "002_d9b6d64c7e93d693.txt", SEEDS / "000_fb21c1f99a61b037.txt")
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    top = list(issue.sections.filter(parent=None))
    assert top[0].heading == "Community Budgets round up of meeting and events"
    digest = next(s for s in top if s.kind == "digest")
    assert list(digest.items.values_list("heading", flat=True)) == [
        "Safeguarding", "Health", "Social care", "Reoffending", "Housing",
    ]  # fmt: skip
    assert issue.sign_off.startswith("P.S.")
    via = Section.objects.get(issue=issue, source="Via Localgov – 23rd May")
    assert via.links.get().url == "http://www.cityfinancecommission.co.uk/"
    event = Section.objects.get(kind="event", venue="The Banqueting Suite, Council House, Birmingham")
    assert str(event.event_date) == "2010-11-30" and event.fee.startswith("SSRG Members")


def test_comments_are_stored_apart_from_the_article():
    run(SEEDS / "003_f5898a36ffc72505.txt")
    issue = Issue.objects.get()
    assert issue.comments.count() == 11
    assert not Section.objects.filter(issue=issue, body_markdown__contains="Waste of money").exists()


def test_a_second_run_creates_nothing_and_reports_unchanged():
    run()
    counts = (Issue.objects.count(), Section.objects.count(), Link.objects.count(), Comment.objects.count())
    out, _ = run()
    assert (Issue.objects.count(), Section.objects.count(), Link.objects.count(), Comment.objects.count()) == counts
    assert "10 issues — 0 created, 10 unchanged, 0 changed" in out


def test_changed_posts_are_reported_and_refreshed_only_with_update(tmp_path):
    path = copy_seed(tmp_path)
    run(path)
    path.write_text(path.read_text().replace("Big, local and app-solutely fabulous!", "Big, local and brilliant!"))
    out, _ = run(path)
    assert "1 changed" in out
    assert not Section.objects.filter(heading__contains="brilliant").exists()
    out, _ = run(path, "--update")
    assert "1 updated" in out
    assert Section.objects.filter(heading="And lastly …. Big, local and brilliant!").exists()
    assert Issue.objects.filter(source_file=path.name).count() == 10


def test_update_leaves_issues_an_editor_has_edited(tmp_path):
    path = copy_seed(tmp_path)
    run(path)
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    Issue.objects.filter(pk=issue.pk).update(title="Edited by hand", edited_in_admin=True)
    path.write_text(path.read_text().replace("app-solutely fabulous", "app-solutely great"))
    out, _ = run(path, "--update")
    assert "1 kept" in out
    assert Issue.objects.get(pk=issue.pk).title == "Edited by hand"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.txt", b"", "the file is empty"),
        ("blank.txt", b"  \n\n ", "the file is empty"),
        ("binary.txt", b"\x7fELF\x00\x00\x01binary", "binary file, not text"),
        ("latin1.txt", "Caf\u00e9 news\n\nBody".encode("latin-1"), "not UTF-8"),
        ("controls.txt", CONTROL_BYTES, "not plain text"),
    ],
)
def test_a_bad_file_gets_one_line_naming_it_and_the_others_still_import(tmp_path, name, content, problem):
    bad = tmp_path / name
    bad.write_bytes(content)
    good = copy_seed(tmp_path, "001_f1bea66b58f7e487")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_seeds", str(bad), str(good), stdout=out, stderr=err)
    assert err.getvalue().strip().splitlines() == [err.getvalue().strip()]
    assert name in err.getvalue() and problem in err.getvalue()
    assert Issue.objects.filter(source_file=good.name).count() == 1
    assert not Issue.objects.filter(source_file=name).exists()


def run_failing(*args):
    """Run a command that must fail for one file: its stderr, which must be one line."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_seeds", *[str(a) for a in args], stdout=out, stderr=err)
    assert len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
    return err.getvalue().strip()


def test_a_file_of_control_bytes_is_refused_and_nothing_is_stored(tmp_path):
    noise = tmp_path / "noise.txt"
    noise.write_bytes(CONTROL_BYTES)
    (tmp_path / "noise.meta.toml").write_text('newsletter = "noise"\ntitle = "Noise"\n', encoding="utf-8")
    err = run_failing(noise)
    assert err.startswith("error: noise.txt: not plain text (") and "control characters" in err
    assert not Issue.objects.exists() and not Section.objects.exists() and not Newsletter.objects.exists()


def test_stray_control_characters_are_stripped_from_the_title_and_body(tmp_path):
    path = copy_seed(tmp_path, "001_f1bea66b58f7e487")
    text = path.read_text(encoding="utf-8")
    for clean, stray in [
        ("Eastern Region", "Eastern\x07 Region"),  # the title line
        ("Council of Reference", "Council\x0b of Reference"),  # the intro
        ("Regional benchmarking", "Regional\x1b benchmarking"),  # a heading
        ("Luton Borough", "Luton\x7f Borough\u0085"),  # a body: DEL, and a C1 control
    ]:
        assert clean in text
        text = text.replace(clean, stray, 1)
    path.write_text(text, encoding="utf-8")
    out, err = run(path)
    assert "1 created" in out and not err
    want = json.loads((ROOT / "tests" / "golden" / f"{path.stem}.json").read_text(encoding="utf-8"))[0]
    issue = Issue.objects.get(source_file=path.name)
    assert issue.title == want["title"] == "Eastern Region Update April 2016"
    assert issue.intro == want["intro"]
    sections = issue.sections.filter(parent=None).order_by("position")
    assert [(s.heading, s.body_markdown) for s in sections] == [
        (s["heading"], s["body_markdown"]) for s in want["sections"]
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, settings, monkeypatch):
    settings.IMPORT_MAX_FILE_BYTES = 20_000
    big, good = copy_seed(tmp_path), copy_seed(tmp_path, "001_f1bea66b58f7e487")
    opened, real_open = [], Path.open

    def spy(self, *args, **kwargs):
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    err = run_failing(big, good)
    size = big.stat().st_size
    assert err == f"error: {big.name}: too large ({size:,} bytes; the limit is 20,000, set by IMPORT_MAX_FILE_BYTES)"
    assert big.name not in opened
    assert not Issue.objects.filter(source_file=big.name).exists()
    assert Issue.objects.filter(source_file=good.name).count() == 1


def test_the_default_size_limit_refuses_an_absurd_file(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: no disk space, and nothing to read if it is never read
    err = run_failing(huge)
    assert err.startswith("error: huge.txt: too large (67,108,864 bytes; the limit is 4,194,304")
    assert not Issue.objects.exists()


@pytest.mark.timeout(60)  # before the importer ran in linear time, this file never finished
def test_a_file_with_a_long_unbroken_word_imports(tmp_path):
    word = random.Random(5).randbytes(512 * 1024).hex()  # 1 MiB of hex: one word, too long for the search index
    path = tmp_path / "key.txt"
    path.write_text(f"Weekly update 24.05.11\n\nThe key, pasted inline:\n\n{word}\n\nThe end.\n")
    out, err = run(path)
    assert "1 created" in out and not err
    issue = Issue.objects.get(source_file=path.name)
    assert issue.title == "Weekly update 24.05.11"
    assert any(word in section.body_markdown for section in issue.sections.all())


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError):
        run(tmp_path / "nope.txt")


def test_a_file_that_fails_while_loading_leaves_nothing_half_written(monkeypatch):
    real_fill = load._fill
    calls = []

    def fail_on_the_third(issue, parsed):
        calls.append(parsed.title)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real_fill(issue, parsed)

    monkeypatch.setattr(load, "_fill", fail_on_the_third)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("import_seeds", str(SEEDS / "002_d9b6d64c7e93d693.txt"), stdout=out, stderr=err)
    assert "disk full" in err.getvalue()
    assert Issue.objects.count() == 0 and Section.objects.count() == 0


def test_dry_run_json_prints_the_contract_and_touches_no_database():
    out, _ = run("--dry-run", "--json")
    issues = json.loads(out)
    assert len(issues) == 18
    assert set(issues[0]) == {
        "source", "newsletter", "title", "date", "date_precision", "category", "tags",
        "intro", "sign_off", "sections", "links", "comments",
    }  # fmt: skip
    section_keys = {"heading", "kind", "body_markdown", "source", "event", "links", "sections"}
    assert all(set(s) == section_keys for issue in issues for s in issue["sections"])
    assert Issue.objects.count() == 0 and Newsletter.objects.count() == 0


def test_newsletter_option_overrides_the_sidecar():
    run("--newsletter", "weekly", SEEDS / "001_f1bea66b58f7e487.txt")
    assert Issue.objects.get().newsletter.slug == "weekly"


def test_imported_issue_can_be_copied_into_a_draft_but_never_sent():
    run(SEEDS / "002_d9b6d64c7e93d693.txt")
    issue = Issue.objects.get(title="Weekly update 24.05.11")
    assert not issue.can_transition_to(Issue.Status.SENDING)
    draft = issue.copy_as_draft()
    assert draft.status == "draft" and draft.source_file == ""
    assert draft.sections.count() == issue.sections.count()
    assert draft.sections.filter(kind="digest_item", parent__kind="digest").count() == 5
    assert Link.objects.filter(section__issue=draft).count() == Link.objects.filter(section__issue=issue).count()


def test_a_reserved_newsletter_slug_is_refused_with_a_clear_error():
    with pytest.raises(CommandError):
        out, err = StringIO(), StringIO()
        call_command("import_seeds", "--newsletter", "search", str(SEEDS / "001_f1bea66b58f7e487.txt"),
                     stdout=out, stderr=err)  # fmt: skip
    assert "used by the site's own pages" in err.getvalue()
    assert not Issue.objects.exists()
