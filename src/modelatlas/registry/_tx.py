"""One write transaction: the assets and relations it writes, and the events it appends.

Events are collected while the operation runs and inserted in one batch just before the
commit, in the same transaction, so an acknowledged write always has its event and a
rolled-back one has none.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jsonschema
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import AlreadyExists, FieldError, MetadataInvalid, NotFound
from modelatlas.events import Action, PendingEvent
from modelatlas.jsonsafe import canonical
from modelatlas.kinds import SPECS, validate_metadata
from modelatlas.refs import Ref
from modelatlas.registry._rows import (
    asset_from_row,
    clean_labels,
    content_digest,
    format_ref,
    utcnow,
)
from modelatlas.registry.types import Asset, AssetCreate, Relation
from modelatlas.relations import check_edge
from modelatlas.store.tables import asset_tags, assets, events, namespace_schemas, relations


def check_custom(
    conn: Connection, namespace: str, kind: str, custom: dict[str, Any], path: str
) -> None:
    """Validate free-form fields against the namespace's JSON Schema for the kind, if any."""
    schema = conn.execute(
        sa.select(namespace_schemas.c.json_schema).where(
            namespace_schemas.c.namespace == namespace, namespace_schemas.c.kind == kind
        )
    ).scalar()
    if schema is None:
        return
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        FieldError(path + "".join(f"/{p}" for p in err.absolute_path), err.message)
        for err in sorted(validator.iter_errors(custom), key=lambda e: list(e.absolute_path))
    ]
    if errors:
        raise MetadataInvalid(
            f"custom fields do not fit the {namespace} schema for {kind}: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors),
            errors=errors,
        )


class WriteTx:
    def __init__(self, conn: Connection, actor: str) -> None:
        self.conn = conn
        self.actor = actor
        self.now = utcnow()
        self.pending: list[tuple[PendingEvent, int | None]] = []

    # events ---------------------------------------------------------------------------
    def emit(self, action: Action, ref: str, payload: dict[str, Any], asset_id: int | None) -> None:
        self.pending.append((PendingEvent(action, ref, payload), asset_id))

    def flush_events(self) -> None:
        if not self.pending:
            return
        rows = []
        for event, asset_id in self.pending:
            body = canonical(event.payload)
            rows.append(
                {
                    "time": self.now,
                    "actor": self.actor,
                    "action": str(event.action),
                    "ref": event.ref,
                    "asset_id": asset_id,
                    "payload": body.decode("utf-8"),
                    "payload_sha256": hashlib.sha256(body).hexdigest(),
                }
            )
        self.conn.execute(events.insert(), rows)
        self.pending.clear()

    # assets ---------------------------------------------------------------------------
    def find_id(self, ref: Ref) -> int | None:
        return self.conn.execute(
            sa.select(assets.c.id).where(
                assets.c.kind == ref.kind,
                assets.c.namespace == ref.namespace,
                assets.c.name == ref.name,
                assets.c.version == (ref.version or ""),
            )
        ).scalar()

    def require_id(self, ref: Ref, path: str) -> int:
        asset_id = self.find_id(ref)
        if asset_id is None:
            raise NotFound(f"{ref} does not exist", errors=[FieldError(path, "no such asset")])
        return asset_id

    def load(self, asset_id: int) -> Asset:
        row = self.conn.execute(sa.select(assets).where(assets.c.id == asset_id)).one()
        return asset_from_row(row)

    def insert_asset(
        self,
        ref: Ref,
        spec_in: AssetCreate,
        *,
        path: str = "",
        action: Action = Action.ASSET_CREATED,
    ) -> tuple[int, dict[str, Any]]:
        """Validate and insert one asset; return its id and its snapshot (event payload)."""
        spec = SPECS[ref.kind]
        meta = validate_metadata(ref.kind, spec_in.metadata, path=f"{path}/metadata")
        if spec_in.custom:
            check_custom(self.conn, ref.namespace, ref.kind, spec_in.custom, f"{path}/custom")
        state = spec_in.state or spec.default_state
        if state not in spec.states:
            raise MetadataInvalid.at(f"{path}/state", f"one of {', '.join(spec.states)}")
        digests = dict(spec_in.digests)
        if spec.digest_fields:
            digests.setdefault("sha256", content_digest(meta, spec.digest_fields))
        version = ref.version or ""
        values = {
            "kind": ref.kind,
            "namespace": ref.namespace,
            "name": ref.name,
            "version": version,
            "version_number": int(version) if version.isdigit() else None,
            "description": spec_in.description,
            "owners": clean_labels(spec_in.owners, f"{path}/owners"),
            "tags": clean_labels(spec_in.tags, f"{path}/tags"),
            "meta": meta,
            "custom": spec_in.custom,
            "schema_version": spec.schema_version,
            "state": state,
            "digests": digests,
            "revision": 1,
            "created_at": self.now,
            "created_by": self.actor,
            "updated_at": self.now,
            "updated_by": self.actor,
        }
        if self.find_id(ref) is not None:
            raise AlreadyExists(
                f"{ref} already exists", errors=[FieldError(path or "/ref", "already exists")]
            )
        asset_id = int(
            self.conn.execute(assets.insert().values(values).returning(assets.c.id)).scalar_one()
        )
        if values["tags"]:
            self.conn.execute(
                asset_tags.insert(), [{"asset_id": asset_id, "tag": t} for t in values["tags"]]
            )
        snapshot = snapshot_of(str(ref), values)
        self.emit(action, str(ref), snapshot, asset_id)
        return asset_id, snapshot

    # relations ------------------------------------------------------------------------
    def link(
        self,
        source: tuple[int, Ref],
        relation: str,
        target: tuple[int, Ref],
        properties: dict[str, Any] | None = None,
    ) -> Relation:
        (source_id, source_ref), (target_id, target_ref) = source, target
        check_edge(relation, source_ref.kind, target_ref.kind)
        exists = self.conn.execute(
            sa.select(relations.c.id).where(
                relations.c.source_id == source_id,
                relations.c.relation == relation,
                relations.c.target_id == target_id,
            )
        ).scalar()
        if exists is not None:
            raise AlreadyExists(f"{source_ref} {relation} {target_ref} already exists")
        props = properties or {}
        self.conn.execute(
            relations.insert().values(
                source_id=source_id, relation=relation, target_id=target_id,
                properties=props, created_at=self.now, created_by=self.actor,
            )
        )
        payload = {"source": str(source_ref), "relation": relation, "target": str(target_ref)}
        if props:
            payload["properties"] = props
        self.emit(Action.RELATION_ADDED, str(source_ref), payload, source_id)
        return Relation.model_construct(
            source=str(source_ref), relation=relation, target=str(target_ref),
            properties=props, created_at=self.now, created_by=self.actor,
        )


def snapshot_of(ref: str, values: dict[str, Any]) -> dict[str, Any]:
    """The asset's full state as recorded in its events: its history is these snapshots."""
    return {
        "ref": ref,
        "description": values["description"],
        "owners": values["owners"],
        "tags": values["tags"],
        "metadata": values["meta"],
        "custom": values["custom"],
        "schema_version": values["schema_version"],
        "state": values["state"],
        "digests": values["digests"],
        "revision": values["revision"],
    }


def ref_of_row(kind: str, namespace: str, name: str, version: str) -> str:
    return format_ref(kind, namespace, name, version)
