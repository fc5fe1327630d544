"""Content digests of the files a run reads (datasets) and writes (artifacts).

A file's digest is the SHA-256 of its bytes, read in chunks so a large dataset never sits
in memory. A directory's digest is the SHA-256 of a canonical listing: one line per file,
sorted by relative POSIX path, ``<sha256>  <size>  <path>`` (symlinks are followed,
hidden files included), so it changes whenever a file is added, removed, renamed or edited,
and not when only timestamps change.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from modelatlas.integrity.manifest import listing_digest

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    files: int


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def digest_path(path: Path) -> Digest:
    """The digest of a file or directory (see the module docstring); OSError if unreadable."""
    if path.is_file():
        sha, size = _file_digest(path)
        return Digest(sha, size, 1)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is neither a file nor a directory")
    entries = []
    for file in (p for p in path.rglob("*") if p.is_file()):
        sha, size = _file_digest(file)
        entries.append((sha, size, file.relative_to(path).as_posix()))
    return Digest(listing_digest(entries), sum(size for _, size, _ in entries), len(entries))


_NAME_BAD = re.compile(r"[^\w.-]+")


def asset_name(path: Path) -> str:
    """A registry name from a file name: ``data/transactions.csv`` -> ``transactions``."""
    stem = path.name
    for suffix in path.suffixes if path.is_file() else ():
        stem = stem.removesuffix(suffix)
    cleaned = _NAME_BAD.sub("-", stem or path.resolve().name).strip(".-_")
    return cleaned[:200] or "data"


def file_format(path: Path) -> str | None:
    """``csv`` for ``x.csv``, ``parquet`` for ``x.parquet``; None for directories."""
    if not path.is_file() or not path.suffix:
        return None
    return path.suffix.lstrip(".").lower() or None
