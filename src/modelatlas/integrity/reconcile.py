"""Reconciliation: do the artifacts still match what the registry recorded about them?

The registry records digests, never bytes: a model version's ``metadata.artifacts``
(``uri``, ``sha256``), a dataset's ``metadata.location`` and ``metadata.digest``, and for
a version registered with a manifest, every file's SHA-256 (model-signing v1.0). Files
move, get overwritten, are cleaned up. :func:`reconcile` reads what is at each recorded
URI **on the caller's machine** (the registry never reads a client's paths) and says, per
artifact: ``ok``, ``missing``, ``changed`` (with the differing files when a manifest was
recorded) or ``unreadable`` (no reader for the URI's scheme, or the reader failed).

What a recorded ``sha256`` may be, so that every way this codebase records one matches:

- of a file: the SHA-256 of its bytes (``log_artifact``, ``use_dataset``, most clients);
- of a directory: capture's listing digest, SHA-256 over ``<sha256>  <size>  <path>\\n``
  per file sorted by relative POSIX path (docs/capture.md);
- either: the model-signing root digest with the default ignored paths
  (``client.artifacts.manifest``), which is what ``digests.sha256`` holds.

Readers are pluggable (:class:`Reader`); :class:`LocalFileReader` reads ``file://`` URIs
and plain paths, and packages add readers for other schemes through the
``modelatlas.artifact_readers`` entry point group.

This module knows nothing of HTTP or the service layer: :func:`reconcile` takes anything
shaped like :class:`modelatlas.client.Client` (:class:`RegistrySource`), so it works over
the in-process and the HTTP transport alike.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from modelatlas.errors import NotFound
from modelatlas.integrity.manifest import (
    DEFAULT_IGNORE,
    FileDigest,
    Manifest,
    hash_file,
    listing_digest,
)

log = logging.getLogger("modelatlas.integrity")

ENTRY_POINT_GROUP = "modelatlas.artifact_readers"
RECONCILED_KINDS = ("model_version", "dataset")
Status = Literal["ok", "missing", "changed", "unreadable"]


class ArtifactMissing(Exception):  # a reader's answer to reconcile, not a user error
    """Raised by a reader: nothing is at the URI (deleted, moved, a broken link)."""


# -- what is at a URI --------------------------------------------------------------------
@dataclass(frozen=True)
class FileEntry:
    """One file of an artifact: its path parts relative to the root (``()`` for a
    single-file artifact), SHA-256 (hex) and size in bytes."""

    parts: tuple[str, ...]
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return "/".join(self.parts) if self.parts else "."


@dataclass(frozen=True)
class Contents:
    """What a reader found at a URI: a single file, or the files of a directory. Every
    recorded digest form is derived from it, so an artifact is read once."""

    files: tuple[FileEntry, ...]
    single: bool

    @property
    def sha256(self) -> str:
        """A file's SHA-256, or a directory's listing digest (capture's form)."""
        if self.single:
            return self.files[0].sha256
        return listing_digest((e.sha256, e.size, e.name) for e in self.files)

    def manifest(self, name: str, *, ignore_paths: Sequence[str] = DEFAULT_IGNORE,
                 allow_symlinks: bool = False) -> Manifest:
        """The model-signing manifest of these files, leaving out ``ignore_paths``."""
        skip = [tuple(PurePosixPath(p).parts) for p in ignore_paths]
        kept = [FileDigest(e.parts, e.sha256) for e in self.files
                if not any(e.parts[:len(s)] == s for s in skip)]
        return Manifest(name, tuple(sorted(kept)), allow_symlinks, tuple(ignore_paths))

    def matches(self, sha256: str) -> bool:
        return sha256 in (self.sha256, self.manifest("_").root_digest)


class Reader(Protocol):
    """Reads what is at an artifact URI, on the caller's machine.

    ``can_read`` is cheap and touches nothing (it looks at the URI). ``read`` costs a full
    read of every byte of the artifact (a reader that can get trustworthy SHA-256 sums from
    the store's metadata may use them instead); it raises :class:`ArtifactMissing` when
    nothing is at the URI and ``OSError`` when something is there but cannot be read. It
    never writes, and it must not follow a URI out of the artifact it names.
    """

    def can_read(self, uri: str) -> bool: ...

    def read(self, uri: str) -> Contents: ...


class LocalFileReader:
    """``file://`` URIs (host empty or ``localhost``) and plain paths (relative ones from
    the current directory). A directory is walked whole, following links to files as
    capture's digest does; files are hashed in chunks (constant memory)."""

    def can_read(self, uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return parts.netloc in ("", "localhost")
        # no scheme, or a Windows drive letter (C:\\...) which urlsplit takes for one
        return parts.scheme == "" or (len(parts.scheme) == 1 and os.name == "nt")

    def path(self, uri: str) -> Path:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(url2pathname(unquote(parts.path)))
        return Path(uri)

    def read(self, uri: str) -> Contents:
        root = self.path(uri)
        if root.is_file():
            return Contents((FileEntry((), hash_file(root), root.stat().st_size),), True)
        if not root.is_dir():
            raise ArtifactMissing(f"{root} does not exist")
        files = [FileEntry(file.relative_to(root).parts, hash_file(file), file.stat().st_size)
                 for file in root.rglob("*") if file.is_file()]
        return Contents(tuple(sorted(files, key=lambda e: e.parts)), False)


def readers() -> list[Reader]:
    """The local reader and every reader installed under the ``modelatlas.artifact_readers``
    entry point group (each entry names a class or factory called without arguments). A
    plugin that fails to load is logged and left out: one broken plugin must not stop a
    reconciliation of everything else."""
    found: list[Reader] = [LocalFileReader()]
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.append(point.load()())
        except Exception:
            log.warning("artifact reader %s could not be loaded", point.value, exc_info=True)
    return found


def reader_for(uri: str, available: Sequence[Reader]) -> Reader | None:
    return next((r for r in available if r.can_read(uri)), None)


# -- what the registry recorded ----------------------------------------------------------
@dataclass(frozen=True)
class Recorded:
    """One artifact as recorded: where it is and its SHA-256."""

    ref: str
    uri: str
    sha256: str
    name: str | None = None


def recorded_artifacts(kind: str, ref: str, metadata: dict[str, Any]) -> list[Recorded]:
    """The artifacts an asset's metadata records with a location and a SHA-256."""
    if kind == "model_version":
        return [Recorded(ref, a["uri"], a["sha256"], a.get("name"))
                for a in metadata.get("artifacts") or []
                if isinstance(a, dict) and a.get("uri") and a.get("sha256")]
    if kind == "dataset":
        location, digest = metadata.get("location"), metadata.get("digest") or ""
        algorithm, _, value = str(digest).partition(":")
        if location and algorithm == "sha256" and value:
            return [Recorded(ref, str(location), value)]
    return []


def _described(artifacts: list[Recorded], manifest: Manifest) -> Recorded | None:
    """The artifact a version's manifest describes: the only one, else the one named as
    the manifest's subject."""
    if len(artifacts) == 1:
        return artifacts[0]
    for artifact in artifacts:
        names = {artifact.name, PurePosixPath(urlsplit(artifact.uri).path).name}
        if manifest.model_name in names:
            return artifact
    return None


# -- the outcome -------------------------------------------------------------------------
@dataclass(frozen=True)
class ArtifactCheck:
    """One artifact's verdict. ``actual`` is the digest found (in the recorded form);
    ``changed_files`` / ``missing_files`` / ``extra_files`` come from the manifest."""

    ref: str
    uri: str
    status: Status
    recorded: str
    name: str | None = None
    actual: str | None = None
    reason: str = ""
    changed_files: tuple[str, ...] = ()
    missing_files: tuple[str, ...] = ()
    extra_files: tuple[str, ...] = ()


@dataclass
class ReconcileReport:
    """Every artifact checked, and how many assets were looked at."""

    checks: list[ArtifactCheck] = field(default_factory=list)
    assets: int = 0

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "missing": 0, "changed": 0, "unreadable": 0}
        for check in self.checks:
            out[check.status] += 1
        return out

    @property
    def clean(self) -> bool:
        """Nothing missing or changed (an unreadable artifact is not evidence of either)."""
        counts = self.counts()
        return counts["missing"] == counts["changed"] == 0

    def as_dict(self) -> dict[str, Any]:
        return {"assets": self.assets, "counts": self.counts(), "clean": self.clean,
                "checks": [asdict(c) for c in self.checks]}


def check_artifact(artifact: Recorded, available: Sequence[Reader],
                   manifest: Manifest | None = None) -> ArtifactCheck:
    """Read one artifact and compare it with its record (and ``manifest``, if it is the
    artifact the version's manifest describes)."""
    base = ArtifactCheck(artifact.ref, artifact.uri, "unreadable", artifact.sha256,
                         artifact.name)
    reader = reader_for(artifact.uri, available)
    if reader is None:
        scheme = urlsplit(artifact.uri).scheme
        return replace(base, reason=f"no reader for {scheme}:// URIs (readers are added "
                                    f"through the {ENTRY_POINT_GROUP} entry points)")
    try:
        contents = reader.read(artifact.uri)
    except ArtifactMissing as exc:
        return replace(base, status="missing", reason=str(exc))
    except OSError as exc:
        return replace(base, reason=f"{exc.strerror or exc}")
    if manifest is None:
        same = contents.matches(artifact.sha256)
        return replace(base, status="ok" if same else "changed", actual=contents.sha256)
    found = contents.manifest(manifest.model_name, ignore_paths=manifest.ignore_paths,
                              allow_symlinks=manifest.allow_symlinks)
    diff = manifest.diff(found)
    same = contents.matches(artifact.sha256) and diff.matches
    return replace(base, status="ok" if same else "changed", actual=contents.sha256,
                   changed_files=diff.changed, missing_files=diff.missing,
                   extra_files=diff.extra)


# -- walking the registry ----------------------------------------------------------------
class _AssetLike(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def digests(self) -> dict[str, str]: ...


class _PageLike(Protocol):
    @property
    def items(self) -> Sequence[_AssetLike]: ...
    @property
    def next_cursor(self) -> str | None: ...


class _ManifestLike(Protocol):
    def to_manifest(self) -> Manifest: ...


class _AssetsLike(Protocol):
    def get(self, ref: str) -> _AssetLike: ...
    def list(self, *, kind: str | None = ..., cursor: str | None = ...,
             limit: int = ...) -> _PageLike: ...


class _ArtifactsLike(Protocol):
    def get(self, ref: str) -> _ManifestLike: ...


class RegistrySource(Protocol):
    """What :func:`reconcile` needs of a registry: :class:`modelatlas.client.Client`
    (in-process or HTTP) is one."""

    @property
    def assets(self) -> _AssetsLike: ...
    @property
    def artifacts(self) -> _ArtifactsLike: ...
    def search(self, q: str, *, facets: Sequence[str] | None = ..., cursor: str | None = ...,
               limit: int = ...) -> _PageLike: ...


def _assets(source: RegistrySource, query: str | None, refs: Sequence[str],
            page_size: int) -> Iterator[_AssetLike]:
    """The assets to reconcile, a page at a time: ``refs``, else the ``query``'s hits,
    else every model version and dataset."""
    if refs:
        yield from (source.assets.get(ref) for ref in refs)
        return
    for kind in (None,) if query is not None else RECONCILED_KINDS:
        cursor: str | None = None
        while True:
            if query is not None:
                page = source.search(query, facets=[], cursor=cursor, limit=page_size)
            else:
                page = source.assets.list(kind=kind, cursor=cursor, limit=page_size)
            yield from page.items
            if page.next_cursor is None or not page.items:
                break
            cursor = page.next_cursor


def _manifest_of(source: RegistrySource, asset: _AssetLike) -> Manifest | None:
    # Registration with a manifest sets digests.sha256 to its root: only then ask for it.
    if asset.kind != "model_version" or "sha256" not in asset.digests:
        return None
    try:
        return source.artifacts.get(asset.ref).to_manifest()
    except NotFound:
        return None


def reconcile(
    source: RegistrySource,
    *,
    query: str | None = None,
    refs: Iterable[str] = (),
    available: Sequence[Reader] | None = None,
    page_size: int = 200,
) -> ReconcileReport:
    """Compare what the registry recorded about artifacts with what is at their URIs now.

    ``refs`` picks assets by ref; else ``query`` (the search language) picks them; else
    every model version and dataset is checked. Assets that record no artifact are
    counted and skipped. ``available`` defaults to :func:`readers`."""
    chosen = list(refs)
    usable = list(available) if available is not None else readers()
    report = ReconcileReport()
    for asset in _assets(source, query, chosen, page_size):
        report.assets += 1
        artifacts = recorded_artifacts(asset.kind, asset.ref, asset.metadata)
        manifest = _manifest_of(source, asset) if artifacts else None
        described = _described(artifacts, manifest) if manifest is not None else None
        for artifact in artifacts:
            report.checks.append(check_artifact(
                artifact, usable, manifest if artifact is described else None))
    return report
