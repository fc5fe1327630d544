"""``client.artifacts``: besides manifests (client/_attestations.py), the bytes of a model
version's artifacts, uploaded to and downloaded from the registry's artifact store."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from modelatlas.client._attestations import ArtifactsAPI as _ManifestsAPI
from modelatlas.errors import FieldError, InvalidInput
from modelatlas.registry.artifact_types import StoredArtifact


class _Hashing:
    """A file that hashes what is written to it."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink, self.hash = sink, hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self.hash.update(chunk)
        return self.sink.write(chunk)


class ArtifactsAPI(_ManifestsAPI):
    """``client.artifacts``: manifests, and artifact bytes by the name the version's
    metadata gives them (its ``name``, else the last segment of its ``uri``)."""

    def upload(self, ref: str, name: str, path: str | Path) -> StoredArtifact:
        """Upload a local file as ``ref``'s artifact ``name``; the registry checks its
        SHA-256 and size against the metadata and refuses other bytes."""
        with Path(path).open("rb") as handle:
            return self._t.upload_artifact(ref, name, handle)

    def download(self, ref: str, name: str, dest: str | Path) -> Path:
        """Download ``ref``'s artifact ``name`` to ``dest`` (a file, or a directory to put
        it in under ``name``). Written to a temporary file first and checked against the
        digest the registry recorded, so a partial or altered download never lands."""
        target = Path(dest)
        if target.is_dir():
            target = target / _local_name(name)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as handle:
                sink = _Hashing(handle)
                expected = self._t.download_artifact(ref, name, sink)  # type: ignore[arg-type]
            if sink.hash.hexdigest() != expected:
                raise InvalidInput(f"the downloaded bytes of {name!r} do not match the "
                                   "recorded SHA-256", errors=[FieldError("/name", "digest")])
            os.replace(temp, target)
        finally:
            Path(temp).unlink(missing_ok=True)
        return target


def _local_name(name: str) -> str:
    """A name from the registry never picks a path here: only its last component."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base in ("", ".", ".."):
        raise InvalidInput.at("/name", "not a file name")
    return base
