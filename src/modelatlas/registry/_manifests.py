"""Artifact manifests in the store: recorded with a model version at registration, read for
``verify-artifact`` and for the subject of attestations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.integrity.manifest import Manifest
from modelatlas.jsonsafe import check_tree
from modelatlas.refs import Ref
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.attestation_types import ArtifactManifest, ManifestFile
from modelatlas.store.tables import artifact_manifests


def parse_manifest(statement: Any, path: str = "/manifest") -> Manifest:
    """The manifest a registration carries: a model-signing v1.0 in-toto Statement
    (``client.artifacts.manifest(path)`` makes one)."""
    if not isinstance(statement, dict):
        raise InvalidInput.at(path, "an in-toto Statement (client.artifacts.manifest makes one)")
    check_tree(statement, path=path)
    return Manifest.from_statement(statement, path=path)


def write_manifest(tx: WriteTx, asset_id: int, manifest: Manifest) -> None:
    tx.conn.execute(artifact_manifests.insert().values(
        asset_id=asset_id, root_sha256=manifest.root_digest, model_name=manifest.model_name,
        serialization=manifest.serialization(),
        files=[[f.name, f.sha256] for f in manifest.files],
        created_at=tx.now, created_by=tx.actor,
    ))


def load_manifest(conn: Connection, asset_id: int, ref: Ref) -> ArtifactManifest:
    row = conn.execute(sa.select(artifact_manifests)
                       .where(artifact_manifests.c.asset_id == asset_id)).first()
    if row is None:
        raise NotFound(f"{ref} has no artifact manifest: register the version with one "
                       "(client.artifacts.manifest(path))")
    serialization = dict(row.serialization)
    return ArtifactManifest(
        ref=str(ref), root_digest=row.root_sha256, model_name=row.model_name,
        allow_symlinks=bool(serialization.get("allow_symlinks", False)),
        ignore_paths=list(serialization.get("ignore_paths", [])),
        files=[ManifestFile(name=name, sha256=sha) for name, sha in row.files],
        created_at=row.created_at, created_by=row.created_by,
    )
