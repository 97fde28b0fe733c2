"""Past issues from other tools, read from disk for the same load step as the seeds (importer/load.py).

A Substack export folder (posts.csv and posts/<post_id>.html; importer/substack.py) or a folder of Markdown
files with front matter (importer/frontmatter.py). Every file is read as files.read_seed reads a seed: refused
when missing, over IMPORT_MAX_FILE_BYTES, binary, not UTF-8 or not plain text, with one message naming it.
Each post or Markdown file is one unit, loaded in its own transaction and keyed by its file name.
"""

from dataclasses import dataclass, field
from pathlib import Path

from newsletter.importer.files import SeedFile, SeedFileError, _slug_from_stem, read_seed
from newsletter.importer.frontmatter import FrontMatterError, parse_markdown
from newsletter.importer.substack import SubstackError, parse_post, read_posts_csv, skip_reason

MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass
class Sources:
    units: list = field(default_factory=list)  # (SeedFile, [ParsedIssue])
    errors: list = field(default_factory=list)  # "FILE: problem"
    skipped: list = field(default_factory=list)  # "FILE: why it is not an issue"


def _read(path):
    """A file's text with the seed reader's checks; SeedFileError names the file and the problem."""
    return read_seed(path, newsletter="-").text


def substack(folder, newsletter=None):
    """The published posts of an unzipped Substack export, one unit each."""
    folder, found = Path(folder), Sources()
    if not folder.is_dir():
        found.errors.append(f"{folder}: not a folder (unzip the Substack export and give its folder)")
        return found
    try:
        rows = read_posts_csv(_read(folder / "posts.csv"))
    except (SeedFileError, SubstackError) as exc:
        found.errors.append(str(exc))
        return found
    slug = newsletter or _slug_from_stem(folder.name)
    for row in rows:
        reason = skip_reason(row)
        if reason:
            found.skipped.append(f"{row.file_name}: {reason}")
            continue
        path = folder / "posts" / row.file_name
        try:
            if not path.exists():
                raise SeedFileError(f"posts/{row.file_name}: no such file (listed in posts.csv)")
            html = _read(path)
            issue = parse_post(row, html, newsletter=slug)
        except (SeedFileError, SubstackError) as exc:
            found.errors.append(str(exc))
            continue
        found.units.append((SeedFile(path=path, text=html, meta={"newsletter": slug}), [issue]))
    return found


def markdown(path, newsletter=None):
    """Every Markdown file in a folder (or one file), one unit each, in name order."""
    path, found = Path(path), Sources()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file())
        default = _slug_from_stem(path.name)
        if not files:
            found.errors.append(f"{path}: no Markdown files (*.md) in this folder")
    else:
        files, default = [path], _slug_from_stem(path.parent.name)
    for file in files:
        try:
            issue = parse_markdown(_read(file), source=file.name, newsletter=newsletter)
        except SeedFileError as exc:
            found.errors.append(str(exc))
            continue
        except FrontMatterError as exc:
            found.errors.append(f"{file.name}: {exc}")
            continue
        issue.newsletter = issue.newsletter or default
        found.units.append((SeedFile(path=file, text="", meta={"newsletter": issue.newsletter}), [issue]))
    return found
