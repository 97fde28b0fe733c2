"""Reading seed files and their sidecars, with one clear error per bad file."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from newsletter.importer.parse import parse_document

SIDECAR_KEYS = {"newsletter", "newsletter_name", "newsletter_description", "title"}
# Anything larger is refused before it is read (setting IMPORT_MAX_FILE_BYTES); the largest seed is 72 KB.
DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024
# C0 control characters except tab, newline, form feed and carriage return; DEL; C1 control characters.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Up to this share of a file's characters, control characters are stray bytes and are dropped;
# above it the file is refused: it is not text.
MAX_CONTROL_SHARE = 0.01
SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")


class SeedFileError(Exception):
    """A file that cannot be imported; the message names the file and the problem."""


@dataclass
class SeedFile:
    path: Path
    text: str
    meta: dict

    @property
    def newsletter_slug(self):
        return self.meta["newsletter"]


def _slug_from_stem(stem):
    return SLUG_SEPARATORS.sub("-", stem.lower()).strip("-")[:50] or "imported"


def max_file_bytes():
    configured = getattr(settings, "IMPORT_MAX_FILE_BYTES", None) if settings.configured else None
    return configured or DEFAULT_MAX_FILE_BYTES


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; a file over the limit is refused before it is read, and never read past it."""
    too_large = f"{path.name}: too large ({{:,}} bytes; the limit is {max_bytes:,}, set by IMPORT_MAX_FILE_BYTES)"
    size = path.stat().st_size
    if size > max_bytes:
        raise SeedFileError(too_large.format(size))
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since stat()
        raise SeedFileError(too_large.format(len(data)))
    return data


def strip_controls(path: Path, text: str) -> str:
    """The text without stray control characters; a file with more than a trace of them is refused."""
    kept, count = CONTROL.subn("", text)
    if count > len(text) * MAX_CONTROL_SHARE:
        raise SeedFileError(
            f"{path.name}: not plain text ({count:,} control characters, {count / len(text):.1%} of the text)"
        )
    return kept


def read_sidecar(path: Path, max_bytes: int | None = None) -> dict:
    sidecar = path.with_name(f"{path.stem}.meta.toml")
    if not sidecar.exists():
        return {}
    try:
        meta = tomllib.loads(_read_bytes(sidecar, max_bytes or max_file_bytes()).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"{sidecar.name}: not valid TOML ({exc})") from exc
    unknown = set(meta) - SIDECAR_KEYS
    if unknown:
        raise SeedFileError(f"{sidecar.name}: unknown keys {sorted(unknown)}; a sidecar holds metadata only")
    return {key: strip_controls(sidecar, value) if isinstance(value, str) else value for key, value in meta.items()}


def read_seed(path, newsletter=None, *, max_bytes=None) -> SeedFile:
    """One seed file as text, or SeedFileError: missing, too large, empty, binary, not UTF-8, not plain text."""
    path = Path(path)
    if not path.exists():
        raise SeedFileError(f"{path}: no such file")
    if not path.is_file():
        raise SeedFileError(f"{path}: not a file")
    max_bytes = max_bytes or max_file_bytes()
    data = _read_bytes(path, max_bytes)
    if not data.strip():
        raise SeedFileError(f"{path.name}: the file is empty")
    if b"\x00" in data[:8192]:
        raise SeedFileError(f"{path.name}: binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedFileError(f"{path.name}: not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from exc
    text = strip_controls(path, text.removeprefix("\ufeff"))
    if not text.strip():
        raise SeedFileError(f"{path.name}: the file is empty")
    meta = read_sidecar(path, max_bytes)
    meta["newsletter"] = newsletter or meta.get("newsletter") or _slug_from_stem(path.stem)
    return SeedFile(path=path, text=text, meta=meta)


def parse_seed(seed: SeedFile):
    return parse_document(
        seed.text, source=seed.path.name, newsletter=seed.newsletter_slug, title=seed.meta.get("title")
    )


def seed_paths(paths, default_dir):
    if paths:
        return [Path(p) for p in paths]
    return sorted(Path(default_dir).glob("*.txt"))
