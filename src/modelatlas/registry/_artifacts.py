"""The service layer's artifact store, mixed into :class:`Registry`: the bytes of an
artifact a model version's metadata lists, uploaded and downloaded by its name.

Bytes are kept content-addressed under ``MODELATLAS_ARTIFACT_DIR``
(``sha256/<2 hex>/<62 hex>``). The path on disk comes from the digest alone (64 hex
checked), never from a name a caller sent: the name is only looked up in the metadata.
An upload is streamed to a temporary file in the same directory while it is counted
(``MODELATLAS_MAX_ARTIFACT_BYTES`` and the size the metadata declares) and hashed; bytes
whose SHA-256 differs from the metadata's are discarded (422) and only matching bytes are
renamed into place. The registry never opens an artifact as anything but bytes: nothing
is unpickled, parsed as YAML or imported.

A ``stored_artifacts`` row records which version's artifact the bytes were uploaded for,
so a download needs that row: knowing a digest another namespace uploaded does not let a
caller download it by listing the same digest in their own version's metadata.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from modelatlas.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge
from modelatlas.events import Action
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import require_readable
from modelatlas.registry._pulls import record_pull
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.artifact_types import StoredArtifact
from modelatlas.store.tables import assets, stored_artifacts

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


def blob_path(root: Path, sha256: str) -> Path:
    """Where the bytes with ``sha256`` live: a path built from checked hex only."""
    if not _HEX64.match(sha256):
        raise InvalidInput.at("/sha256", "64 lowercase hex digits")
    return root / "sha256" / sha256[:2] / sha256[2:]


def _declared(meta: dict[str, Any], name: str, ref: Ref) -> dict[str, Any]:
    """The metadata entry of artifact ``name``: its ``name``, else the last segment of its
    URI (an artifact recorded without a name is addressed as its file is called)."""
    for entry in meta.get("artifacts", []):
        label = entry.get("name") or str(entry.get("uri", "")).rstrip("/").rsplit("/", 1)[-1]
        if label == name:
            return dict(entry, name=label)
    raise NotFound(f"{ref} lists no artifact named {name!r}",
                   errors=[FieldError("/name", "not in the version's metadata.artifacts")])


class ArtifactUpload:
    """One upload in progress: :meth:`write` the bytes, then :meth:`finish` (or
    :meth:`abort`, which :meth:`finish` also does on any failure)."""

    def __init__(self, service: ArtifactService, ref: Ref, asset_id: int,
                 entry: dict[str, Any], actor: str | None) -> None:
        self._service, self._ref, self._asset_id, self._actor = service, ref, asset_id, actor
        self.name, self.sha256, self.declared = entry["name"], entry["sha256"], entry["size"]
        self._limit = service.settings.max_artifact_bytes
        self._root = service.settings.resolved_artifact_dir()
        (self._root / "tmp").mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self._root / "tmp", prefix="upload-")  # mode 0600
        self._file, self._temp = os.fdopen(fd, "wb"), Path(temp)
        self._hash, self.size = hashlib.sha256(), 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            self.abort()
            raise _too_large(self._limit)
        if self.size > self.declared:
            self.abort()
            raise InvalidInput.at("body", f"more bytes than the {self.declared} the "
                                          f"metadata declares for {self.name!r}")
        self._hash.update(chunk)
        self._file.write(chunk)

    def abort(self) -> None:
        self._file.close()
        with suppress(FileNotFoundError):
            self._temp.unlink()

    def finish(self) -> StoredArtifact:
        try:
            self._file.close()
            digest = self._hash.hexdigest()
            if digest != self.sha256 or self.size != self.declared:
                raise InvalidInput.at("body", f"the bytes (sha256 {digest}, {self.size} bytes)"
                                              f" are not the artifact the metadata records "
                                              f"(sha256 {self.sha256}, {self.declared} bytes)")
            final = blob_path(self._root, digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._temp, final)  # same bytes if it was there: a no-op in effect
        finally:
            self.abort()
        return self._service._record_stored(self._ref, self._asset_id, self.name, digest,
                                            self.size, self._actor)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"artifact exceeds {limit} bytes (MODELATLAS_MAX_ARTIFACT_BYTES)",
                           errors=[FieldError("body", f"at most {limit} bytes")])


class ArtifactService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def begin_artifact_upload(self, ref: str | Ref, name: str, *, actor: str | None = None,
                              principal: Principal | None = None) -> ArtifactUpload:
        """Start uploading the bytes of ``ref``'s artifact ``name``: the caller needs the
        version readable (else 404) and ``version.register`` in its namespace."""
        parsed = _model_version(ref)
        require_readable(self, principal, parsed)
        self.authorize(principal, "version.register", parsed.namespace, ref=str(parsed),
                       kind=parsed.kind)
        with self.db.read() as conn:
            asset_id, meta = _meta(conn, parsed)
        entry = _declared(meta, name, parsed)
        if entry["size"] > self.settings.max_artifact_bytes:
            raise _too_large(self.settings.max_artifact_bytes)
        return ArtifactUpload(self, parsed, asset_id, entry, self.acting(principal, actor))

    def store_artifact(self, ref: str | Ref, name: str, source: BinaryIO | Iterable[bytes],
                       *, actor: str | None = None,
                       principal: Principal | None = None) -> StoredArtifact:
        """Upload from a binary file or an iterable of byte chunks, in one call."""
        upload = self.begin_artifact_upload(ref, name, actor=actor, principal=principal)
        try:
            chunks = iter(lambda: source.read(CHUNK), b"") if hasattr(source, "read") else source
            for chunk in chunks:
                upload.write(chunk)
        except BaseException:
            upload.abort()
            raise
        return upload.finish()

    def _record_stored(self, ref: Ref, asset_id: int, name: str, sha256: str, size: int,
                       actor: str | None) -> StoredArtifact:
        with self._write(actor) as tx:
            where = (stored_artifacts.c.asset_id == asset_id) & (stored_artifacts.c.name == name)
            tx.conn.execute(stored_artifacts.delete().where(where))
            values = {"asset_id": asset_id, "name": name, "sha256": sha256, "size": size,
                      "stored_at": tx.now, "stored_by": tx.actor}
            tx.conn.execute(stored_artifacts.insert().values(**values))
            tx.emit(Action.ARTIFACT_STORED, str(ref),
                    {"name": name, "sha256": sha256, "size": size}, asset_id)
        return StoredArtifact(ref=str(ref), name=name, sha256=sha256, size=size,
                              stored_at=values["stored_at"], stored_by=values["stored_by"])

    def open_artifact(self, ref: str | Ref, name: str, *,
                      principal: Principal | None = None) -> tuple[StoredArtifact, Path]:
        """The stored artifact and the file holding its bytes (``asset.read``; 404 when
        the version is unreadable, lists no such artifact, or its bytes were never
        uploaded)."""
        parsed = _model_version(ref)
        require_readable(self, principal, parsed)
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            row = conn.execute(sa.select(stored_artifacts).where(
                stored_artifacts.c.asset_id == asset_id, stored_artifacts.c.name == name)
            ).first()
        path = None if row is None else blob_path(self.settings.resolved_artifact_dir(),
                                                  row.sha256)
        if row is None or path is None or not path.is_file():
            raise NotFound(f"no bytes of {parsed}'s artifact {name!r} are stored: upload them "
                           "with `modelatlas artifacts push`",
                           errors=[FieldError("/name", "not stored")])
        with self._write(None) as tx:  # who pulled it: a deprecation tells their teams
            record_pull(tx.conn, asset_id, self._caller(principal).person, tx.now)
        return StoredArtifact(ref=str(parsed), name=row.name, sha256=row.sha256,
                              size=row.size, stored_at=row.stored_at,
                              stored_by=row.stored_by), path


def _model_version(ref: str | Ref) -> Ref:
    parsed = Ref.coerce(ref)
    if parsed.kind != "model_version":
        raise InvalidInput.at("/ref", "artifacts are stored for model versions "
                                      "(model_version:ns/name@N)")
    return parsed


def _meta(conn: sa.Connection, ref: Ref) -> tuple[int, dict[str, Any]]:
    asset_id = q.require_id(conn, ref)
    meta = conn.execute(sa.select(assets.c.meta).where(assets.c.id == asset_id)).scalar()
    return asset_id, dict(meta or {})
