"""The parser against golden files written by hand from a reading of each seed."""

import json
from pathlib import Path

import pytest

from newsletter.importer.files import parse_seed, read_seed

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def test_every_seed_has_a_golden_file():
    assert len(SEEDS) == 5
    for seed in SEEDS:
        assert (ROOT / "tests" / "golden" / f"{seed.stem}.json").exists(), seed.name


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_parses_to_its_golden_file(seed):
    got = [issue.contract() for issue in parse_seed(read_seed(seed))]
    want = json.loads((ROOT / "tests" / "golden" / f"{seed.stem}.json").read_text(encoding="utf-8"))
    assert len(got) == len(want)
    for got_issue, want_issue in zip(got, want, strict=True):
        # Section by section, so a failure names the place that differs.
        for key in want_issue:
            if key != "sections":
                assert got_issue[key] == want_issue[key], (want_issue["title"], key)
        assert [s["heading"] for s in got_issue["sections"]] == [s["heading"] for s in want_issue["sections"]]
        for got_section, want_section in zip(got_issue["sections"], want_issue["sections"], strict=True):
            assert got_section == want_section, (want_issue["title"], want_section["heading"])


def test_blog_dump_is_one_issue_per_post():
    issues = parse_seed(read_seed(ROOT / "seeds" / "002_d9b6d64c7e93d693.txt"))
    assert len(issues) == 10
    weekly = [i for i in issues if i.category == "Weekly update"]
    assert [i.date for i in weekly][:3] == ["2011-05-24", "2011-05-17", "2011-05-10"]
    assert {i.category for i in issues} == {"Weekly update", "Uncategorized", "Data sharing"}


def test_news_article_keeps_comments_apart_from_its_sections():
    (issue,) = parse_seed(read_seed(ROOT / "seeds" / "003_f5898a36ffc72505.txt"))
    assert len(issue.comments) == 11
    bodies = " ".join(s.body_markdown for s in issue.sections)
    assert "Waste of money" not in bodies
    assert issue.comments[0].body_markdown.endswith("Waste of money.")
