"""Reading seed files and their sidecars, with one clear error per bad file."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from newsletter.importer.parse import parse_document

SIDECAR_KEYS = {"newsletter", "newsletter_name", "newsletter_description", "title"}


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
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:50] or "imported"


def read_sidecar(path: Path) -> dict:
    sidecar = path.with_name(f"{path.stem}.meta.toml")
    if not sidecar.exists():
        return {}
    try:
        meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"{sidecar.name}: not valid TOML ({exc})") from exc
    unknown = set(meta) - SIDECAR_KEYS
    if unknown:
        raise SeedFileError(f"{sidecar.name}: unknown keys {sorted(unknown)}; a sidecar holds metadata only")
    return meta


def read_seed(path, newsletter=None) -> SeedFile:
    path = Path(path)
    if not path.exists():
        raise SeedFileError(f"{path}: no such file")
    if not path.is_file():
        raise SeedFileError(f"{path}: not a file")
    data = path.read_bytes()
    if not data.strip():
        raise SeedFileError(f"{path.name}: the file is empty")
    if b"\x00" in data[:8192]:
        raise SeedFileError(f"{path.name}: binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedFileError(f"{path.name}: not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from exc
    text = text.removeprefix("\ufeff")
    meta = read_sidecar(path)
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
