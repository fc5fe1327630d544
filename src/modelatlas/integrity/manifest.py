"""Artifact manifests: every file of a model artifact with its SHA-256, and one root digest.

The format is the OpenSSF ``model-signing`` v1.0 manifest (``files`` serialization, SHA-256),
so a model signed with its tools and one hashed here name the same root digest:

- each regular file is hashed by streaming it in chunks (constant memory, whatever its size);
- a file's name is its POSIX path relative to the artifact root (``sub/x.bin``); a single-file
  artifact has one entry named ``.``;
- entries are ordered by path components (``sub/x`` before ``sub.txt``, as Python's
  ``PurePosixPath`` orders them), and the root digest is SHA-256 over the concatenated raw
  32-byte file digests in that order;
- paths under ``ignore_paths`` (relative to the root, whole components) are left out; by
  default the git metadata ``model-signing`` leaves out too.

Symbolic links are refused unless explicitly allowed (then a link to a file is hashed as the
file it points to; a link to a directory is still refused: following it could leave the
artifact or loop). Sockets, pipes and devices are always refused.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from modelatlas.errors import FieldError, InvalidInput

PREDICATE_TYPE = "https://model_signing/signature/v1.0"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
DEFAULT_IGNORE = (".git", ".gitattributes", ".github", ".gitignore")
CHUNK_SIZE = 1024 * 1024
MAX_FILES = 1_000_000
_HEX64 = frozenset("0123456789abcdef")


class ArtifactUnreadable(InvalidInput):
    """A path that cannot be hashed as an artifact (missing, a refused link, a special file)."""

    code = "artifact_unreadable"
    title = "Artifact cannot be hashed"
    remedy = "Point at a regular file or a directory; pass allow_symlinks to follow links."


@dataclass(frozen=True, order=True)
class FileDigest:
    """One file of an artifact: its path parts (the sort key), name and SHA-256 (hex)."""

    parts: tuple[str, ...]
    sha256: str = field(compare=False)

    @property
    def name(self) -> str:
        return "/".join(self.parts) if self.parts else "."


@dataclass(frozen=True)
class ManifestDiff:
    """How a local copy differs from a manifest: files whose content changed, files the
    manifest lists that are missing, and files it does not list."""

    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return not (self.changed or self.missing or self.extra)


@dataclass(frozen=True)
class Manifest:
    """The files of an artifact in canonical order and how they were collected. Build one
    with :func:`hash_artifact` or :meth:`from_statement`; both validate."""

    model_name: str
    files: tuple[FileDigest, ...]
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = DEFAULT_IGNORE

    def __post_init__(self) -> None:
        names = [f.parts for f in self.files]
        if names != sorted(set(names)):
            raise ValueError("manifest files must be unique and in canonical order")

    @property
    def root_digest(self) -> str:
        """SHA-256 (hex) over the raw file digests in canonical order."""
        hasher = hashlib.sha256()
        for item in self.files:
            hasher.update(bytes.fromhex(item.sha256))
        return hasher.hexdigest()

    def by_name(self) -> dict[str, str]:
        return {f.name: f.sha256 for f in self.files}

    def serialization(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": "files", "hash_type": "sha256",
                               "allow_symlinks": self.allow_symlinks}
        if self.ignore_paths:
            out["ignore_paths"] = list(self.ignore_paths)
        return out

    def to_statement(self) -> dict[str, Any]:
        """The in-toto Statement ``model-signing`` signs for this manifest."""
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.model_name, "digest": {"sha256": self.root_digest}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "serialization": self.serialization(),
                "resources": [{"name": f.name, "algorithm": "sha256", "digest": f.sha256}
                              for f in self.files],
            },
        }

    @classmethod
    def from_statement(cls, statement: Mapping[str, Any], *, path: str = "") -> Manifest:
        """Read a ``model-signing`` v1.0 Statement (or our stored form of one), checking that
        its subject's root digest is the digest of its resources."""
        return _from_statement(statement, path)

    def diff(self, actual: Manifest) -> ManifestDiff:
        """What differs in ``actual`` (a local copy) from this manifest."""
        want, got = self.by_name(), actual.by_name()
        return ManifestDiff(
            changed=tuple(n for n in want if n in got and got[n] != want[n]),
            missing=tuple(n for n in want if n not in got),
            extra=tuple(n for n in got if n not in want),
        )


def hash_file(path: Path, *, chunk_size: int = CHUNK_SIZE) -> str:
    """SHA-256 of a file, read ``chunk_size`` bytes at a time into one reused buffer."""
    hasher = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            hasher.update(view[:read])
    return hasher.hexdigest()


def listing_digest(entries: Iterable[tuple[str, int, str]]) -> str:
    """The directory digest ``modelatlas.capture`` records for an artifact or dataset
    folder: SHA-256 over one line ``<sha256>  <size>  <path>`` per file, sorted by
    relative POSIX path. ``entries`` are ``(sha256, size, path)``. The one definition of
    that form, shared by capture (which writes it) and reconcile (which checks it)."""
    listing = hashlib.sha256()
    for sha256, size, name in sorted(entries, key=lambda entry: entry[2]):
        listing.update(f"{sha256}  {size}  {name}\n".encode())
    return listing.hexdigest()


def hash_artifact(
    path: str | Path,
    *,
    allow_symlinks: bool = False,
    ignore_paths: Iterable[str] = DEFAULT_IGNORE,
    chunk_size: int = CHUNK_SIZE,
) -> Manifest:
    """Hash a model artifact (a file or a directory) into its manifest."""
    root = Path(path)
    ignored = tuple(_clean_ignore(p) for p in ignore_paths)
    kind = _kind(root, allow_symlinks, root)
    name = root.name or Path(os.path.abspath(root)).name
    if kind == "file":
        files = [FileDigest((), hash_file(root, chunk_size=chunk_size))]
    else:
        files = [FileDigest(parts, hash_file(file, chunk_size=chunk_size))
                 for parts, file in _walk(root, allow_symlinks, ignored)]
    return Manifest(name, tuple(sorted(files)), allow_symlinks, ignored)


def _clean_ignore(text: str) -> str:
    parts = PurePosixPath(text).parts
    if not parts or parts[0] == "/" or ".." in parts:
        raise InvalidInput.at("/ignore_paths", f"{text!r}: a path inside the artifact")
    return "/".join(parts)


def _kind(path: Path, allow_symlinks: bool, shown: Path) -> str:
    """``file`` or ``dir``, or raise for what an artifact may not contain."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            if not allow_symlinks:
                raise _unreadable(shown, "is a symbolic link (refused unless allowed)")
            info = path.stat()
            if stat.S_ISDIR(info.st_mode):
                raise _unreadable(shown, "is a symbolic link to a directory (never followed)")
    except FileNotFoundError:
        raise _unreadable(shown, "does not exist (or is a broken link)") from None
    except OSError as exc:
        raise _unreadable(shown, f"cannot be read: {exc.strerror}") from None
    if stat.S_ISREG(info.st_mode):
        return "file"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    raise _unreadable(shown, "is not a regular file or directory")


def _unreadable(path: Path, why: str) -> ArtifactUnreadable:
    return ArtifactUnreadable(f"{path} {why}", errors=[FieldError("/path", f"{path} {why}")])


def _walk(root: Path, allow_symlinks: bool,
          ignored: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Path]]:
    """Every regular file under ``root`` (relative parts, path), links checked on the way."""
    skip = {tuple(p.split("/")) for p in ignored}
    pending: list[tuple[tuple[str, ...], Path]] = [((), root)]
    count = 0
    while pending:
        parts, folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise _unreadable(folder, f"cannot be listed: {exc.strerror}") from None
        for entry in entries:
            rel = (*parts, entry.name)
            if any(rel[:len(s)] == s for s in skip):
                continue
            child = Path(entry.path)
            if _kind(child, allow_symlinks, child) == "dir":
                pending.append((rel, child))
                continue
            count += 1
            if count > MAX_FILES:
                raise _unreadable(root, f"has more than {MAX_FILES} files")
            yield rel, child


def _from_statement(statement: Mapping[str, Any], path: str) -> Manifest:
    def bad(where: str, message: str) -> InvalidInput:
        return InvalidInput.at(f"{path}{where}", message)

    if statement.get("predicateType") != PREDICATE_TYPE:
        raise bad("/predicateType", f"a manifest has predicate type {PREDICATE_TYPE}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise bad("/subject", "a manifest has exactly one subject")
    digest = subjects[0].get("digest")
    root = digest.get("sha256") if isinstance(digest, dict) else None
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        raise bad("/predicate", "an object with serialization and resources")
    serialization = predicate.get("serialization")
    if not isinstance(serialization, dict) or serialization.get("method") != "files" \
            or serialization.get("hash_type") != "sha256":
        raise bad("/predicate/serialization",
                  "only the files method with sha256 is supported (not shards or blake3)")
    files = _resources(predicate.get("resources"), f"{path}/predicate/resources")
    ignore = serialization.get("ignore_paths", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise bad("/predicate/serialization/ignore_paths", "a list of paths")
    manifest = Manifest(str(subjects[0].get("name") or "_"), files,
                        bool(serialization.get("allow_symlinks", False)),
                        tuple(_clean_ignore(p) for p in ignore))
    if root != manifest.root_digest:
        raise bad("/subject/0/digest/sha256",
                  f"the resources hash to {manifest.root_digest}, not the subject's {root}")
    return manifest


def _resources(resources: Any, path: str) -> tuple[FileDigest, ...]:
    if not isinstance(resources, list) or len(resources) > MAX_FILES:
        raise InvalidInput.at(path, f"a list of at most {MAX_FILES} resources")
    files: dict[tuple[str, ...], FileDigest] = {}
    for index, item in enumerate(resources):
        name = item.get("name") if isinstance(item, dict) else None
        digest = item.get("digest") if isinstance(item, dict) else None
        if not isinstance(item, dict) or item.get("algorithm") != "sha256" \
                or not isinstance(name, str) or not isinstance(digest, str) \
                or len(digest) != 64 or not set(digest) <= _HEX64:
            raise InvalidInput.at(f"{path}/{index}",
                                  "{name, algorithm: sha256, digest: 64 lowercase hex}")
        parts = () if name == "." else PurePosixPath(name).parts
        if name != "." and (not parts or parts[0] == "/" or ".." in parts
                            or "/".join(parts) != name):
            raise InvalidInput.at(f"{path}/{index}/name", f"{name!r}: a relative POSIX path")
        if parts in files:
            raise InvalidInput.at(f"{path}/{index}/name", f"{name!r} is listed twice")
        files[parts] = FileDigest(parts, digest)
    return tuple(sorted(files.values()))
