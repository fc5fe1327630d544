"""One write transaction: the assets and relations it writes, and the events it appends.

Events are collected while the operation runs and inserted in one batch just before the
commit, in the same transaction, so an acknowledged write always has its event and a
rolled-back one has none.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jsonschema
import referencing.exceptions
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import AlreadyExists, FieldError, MetadataInvalid
from modelatlas.events import Action, PendingEvent
from modelatlas.integrity import log as audit_log
from modelatlas.jsonsafe import canonical
from modelatlas.kinds import SPECS, validate_metadata
from modelatlas.refs import Ref
from modelatlas.registry import _queries
from modelatlas.registry._rows import (
    asset_from_row,
    asset_from_values,
    clean_labels,
    content_digest,
    utcnow,
)
from modelatlas.registry._sealing import KeyringSource, Sealing
from modelatlas.registry.types import Asset, AssetCreate, Relation
from modelatlas.relations import check_edge
from modelatlas.store.backends import backend_for
from modelatlas.store.prepared import Prepared
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
    try:
        found = sorted(validator.iter_errors(custom), key=lambda e: list(e.absolute_path))
    except referencing.exceptions.Unresolvable as exc:
        # Schemas stored before remote references were refused; never a 500 for them.
        raise MetadataInvalid.at(path, f"the {namespace} schema cannot be used: {exc}") from None
    errors = [
        FieldError(path + "".join(f"/{p}" for p in err.absolute_path), err.message)
        for err in found
    ]
    if errors:
        raise MetadataInvalid(
            f"custom fields do not fit the {namespace} schema for {kind}: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors),
            errors=errors,
        )


class WriteTx:
    def __init__(self, conn: Connection, actor: str,
                 keyring: KeyringSource | None = None) -> None:
        self.conn = conn
        self.sealing = Sealing(conn, keyring)  # encryption at rest of sensitive fields
        self.backend = backend_for(conn.dialect.name)
        self.actor = actor
        self.now = utcnow()
        self.pending: list[tuple[PendingEvent, int | None]] = []
        self._written: dict[int, dict[str, Any]] = {}
        self._new_links: dict[tuple[int, str, int], dict[str, Any]] = {}

    # events ---------------------------------------------------------------------------
    def emit(self, action: Action, ref: str, payload: dict[str, Any], asset_id: int | None) -> None:
        self.pending.append((PendingEvent(action, ref, payload), asset_id))

    def flush_events(self) -> None:
        self.sealing.check_stored()
        self._flush_new_links()
        if not self.pending:
            return
        rows = [self._event_row(event, asset_id) for event, asset_id in self.pending]
        append_events(self.conn, rows)
        self.pending.clear()

    def emit_now(self, action: Action, ref: str, payload: dict[str, Any],
                 asset_id: int | None) -> int:
        """Append one event at once and return its sequence number, for a row that must
        name the event that made it (a revalidation mark). Pending events go first, so
        the order of the log is the order of emission."""
        self.flush_events()
        row = self._event_row(PendingEvent(action, ref, payload), asset_id)
        # the tree's lock is held and every event goes through append_events, so the
        # newest leaf is this event
        return append_events(self.conn, [row]).last_seq

    def _event_row(self, event: PendingEvent, asset_id: int | None) -> dict[str, Any]:
        body = canonical(event.payload)
        return {"time": self.now, "actor": self.actor, "action": str(event.action),
                "ref": event.ref, "asset_id": asset_id, "payload": body.decode("utf-8"),
                "payload_sha256": hashlib.sha256(body).hexdigest()}

    # assets ---------------------------------------------------------------------------
    def find_id(self, ref: Ref) -> int | None:
        return _queries.find_id(self.conn, ref)

    def require_id(self, ref: Ref, path: str) -> int:
        return _queries.require_id(self.conn, ref, path)

    def load(self, asset_id: int) -> Asset:
        row = self.conn.execute(_LOAD, {"id": asset_id}).one()
        return asset_from_row(row)

    def written(self, asset_id: int) -> Asset:
        """An asset this transaction inserted, built from the values it wrote: no re-read."""
        return asset_from_values(self._written[asset_id])

    def asset_values(self, ref: Ref, spec_in: AssetCreate, *, path: str = "") -> dict[str, Any]:
        """Validate one new asset and return its row (without ``id``)."""
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
        values: dict[str, Any] = {
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
        self.sealing.stash(values)  # after validation and digests, before anything stores it
        return values

    def insert_asset(
        self,
        ref: Ref,
        spec_in: AssetCreate,
        *,
        path: str = "",
        action: Action = Action.ASSET_CREATED,
    ) -> tuple[int, dict[str, Any]]:
        """Validate and insert one asset; return its id and its snapshot (event payload)."""
        values = self.asset_values(ref, spec_in, path=path)
        # One round trip: the unique constraint answers "already exists" (no row returned).
        inserted = self.backend.insert_asset(self.conn, values)
        if inserted is None:
            raise AlreadyExists(
                f"{ref} already exists", errors=[FieldError(path or "/ref", "already exists")]
            )
        asset_id = int(inserted)
        self.sealing.store_new(asset_id, values)
        if values["tags"]:
            _INSERT_TAGS.insert_many(
                self.conn, [{"asset_id": asset_id, "tag": t} for t in values["tags"]]
            )
        self._written[asset_id] = {**values, "id": asset_id}
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
        props = properties or {}
        inserted = self.backend.insert_relation(
            self.conn,
            {"source_id": source_id, "relation": relation, "target_id": target_id,
             "properties": props, "created_at": self.now, "created_by": self.actor},
        )
        if inserted is None:
            raise AlreadyExists(f"{source_ref} {relation} {target_ref} already exists")
        self.emit(Action.RELATION_ADDED, str(source_ref),
                  relation_payload(str(source_ref), relation, str(target_ref), props), source_id)
        return Relation.model_construct(
            source=str(source_ref), relation=relation, target=str(target_ref),
            properties=props, created_at=self.now, created_by=self.actor,
        )

    def link_new(
        self,
        source: tuple[int, Ref],
        relation: str,
        target: tuple[int, Ref],
    ) -> Relation:
        """Like :meth:`link` for a source this transaction created (so the edge cannot exist
        yet unless this transaction added it): the row is written with the others in one
        multi-row insert when the transaction flushes, before its events."""
        (source_id, source_ref), (target_id, target_ref) = source, target
        if source_id not in self._written:
            raise ValueError("link_new needs a source inserted by this transaction")
        check_edge(relation, source_ref.kind, target_ref.kind)
        key = (source_id, relation, target_id)
        if key in self._new_links:
            raise AlreadyExists(f"{source_ref} {relation} {target_ref} already exists")
        self._new_links[key] = {
            "source_id": source_id, "relation": relation, "target_id": target_id,
            "properties": {}, "created_at": self.now, "created_by": self.actor,
        }
        self.emit(Action.RELATION_ADDED, str(source_ref),
                  relation_payload(str(source_ref), relation, str(target_ref), {}), source_id)
        return Relation.model_construct(
            source=str(source_ref), relation=relation, target=str(target_ref),
            properties={}, created_at=self.now, created_by=self.actor,
        )

    def _flush_new_links(self) -> None:
        if self._new_links:
            _INSERT_RELATIONS.insert_many(self.conn, list(self._new_links.values()))
            self._new_links.clear()


def append_events(conn: Connection, rows: list[dict[str, Any]]) -> audit_log.TreeHead:
    """Insert event rows and extend the Merkle tree over them, in the caller's transaction:
    the one path by which events are written (service writes, bulk loads), so the tree
    covers exactly the committed events. Returns the new tree head."""
    locked = audit_log.lock(conn)  # before the insert: sequence numbers in commit order
    _INSERT_EVENTS.insert_many(conn, rows)
    return audit_log.extend(conn, locked)


def relation_payload(
    source: str, relation: str, target: str, properties: dict[str, Any]
) -> dict[str, Any]:
    """The payload of a ``relation.added`` event."""
    payload: dict[str, Any] = {"source": source, "relation": relation, "target": target}
    if properties:
        payload["properties"] = properties
    return payload


# Statements built once: SQLAlchemy then finds their compiled form in its cache without
# rebuilding and re-hashing a new expression tree on every call (the bulk of the per-call
# cost of a small statement).
_LOAD = sa.select(assets).where(assets.c.id == sa.bindparam("id"))
_INSERT_EVENTS = Prepared(events.insert())
_INSERT_TAGS = Prepared(asset_tags.insert())
_INSERT_RELATIONS = Prepared(relations.insert())


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

