"""The service layer's OpenLineage ingestion, mixed into :class:`Registry`.

One request (one event or a batch) is one transaction, all or nothing: every event is
validated against its OpenLineage schema first (an error names ``/<index>/<json path>``),
then mapped (:mod:`modelatlas.lineage.openlineage.mapping`) into per-asset updates and
edges. The transaction reads the assets the batch names in one query per 500, folds each
asset's updates over its stored values, and writes only what changed: new assets and
edges in one ``executemany`` each, changed assets one update each, each with the same
events (``asset.created``, ``asset.updated``, ``relation.added``) the other write paths
append. An event delivered twice therefore writes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from modelatlas.errors import Conflict, PayloadTooLarge
from modelatlas.events import Action
from modelatlas.jsonsafe import DEFAULT_MAX_DEPTH, check_tree
from modelatlas.kinds import SPECS, read_metadata, validate_metadata
from modelatlas.lineage.openlineage import OpenLineageInvalid, Plan, fold, validate_event
from modelatlas.refs import Ref
from modelatlas.registry._rows import content_digest
from modelatlas.registry._tx import WriteTx, check_custom, relation_payload, snapshot_of
from modelatlas.registry.types import AssetCreate
from modelatlas.relations import check_edge
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import assets, namespace_schemas, relations

if TYPE_CHECKING:
    from modelatlas.config import Settings
    from modelatlas.store.engine import Database

MAX_EVENTS = 10_000
_CHUNK = 500


class OpenLineageIngest(BaseModel):
    """What one ingest request wrote."""

    events: int = Field(description="events accepted")
    created: list[str] = Field(default_factory=list, description="refs of new assets")
    updated: list[str] = Field(default_factory=list, description="refs of changed assets")
    relations: int = Field(default=0, description="edges added")


class _Stale(Exception):
    """An asset changed under this transaction (a concurrent writer): start again."""


class OpenLineageService:
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        db: Database
        settings: Settings
        _write: Callable[[str | None], AbstractContextManager[WriteTx]]

    def ingest_openlineage(self, events: Any, *, actor: str | None = None) -> OpenLineageIngest:
        """Ingest one OpenLineage event (a JSON object) or a batch (a JSON array of them),
        exactly as the OpenLineage HTTP transport sends them; see docs/openlineage.md."""
        batch = isinstance(events, list)
        items: list[Any] = events if batch else [events]
        if len(items) > MAX_EVENTS:
            raise PayloadTooLarge(f"a batch holds at most {MAX_EVENTS} events; split it")
        if not _plainly_safe(items):
            check_tree(items)  # it names the path of what it refuses
        plan = Plan()
        for index, event in enumerate(items):
            prefix = f"/{index}" if batch else ""
            validate_event(event, prefix)
            try:
                plan.add(event)
            except (KeyError, TypeError, AttributeError) as exc:
                # a facet without a shipped schema (so not validated) missing what it needs
                raise OpenLineageInvalid.at(
                    prefix or "/", f"a facet lacks a field the mapping needs: {exc!r}"
                ) from None
        for _attempt in range(3):
            try:
                with self._write(actor) as tx:
                    return _apply(tx, plan, len(items))
            except (IntegrityError, _Stale):
                continue  # a concurrent request wrote the same assets: read them again
        raise Conflict("the assets of this batch are being written concurrently; retry")


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_LONG_NUMBER = re.compile(rb"[0-9]{16}")  # 2^53 has 16 digits
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING = frozenset(b"[{")


def _plainly_safe(items: list[Any]) -> bool:
    """True only when :func:`check_tree` would accept ``items``, found at C speed (check_tree
    walks every string and key in Python, a third of the cost of an event): orjson refuses
    lone surrogates and integers past 64 bits; NUL is written ``\u0000``; an integer past
    2^53 has 16 digits; the depth is that of the brackets outside strings. A false answer
    (a string holding ``\u0000`` or 16 digits, say) only sends the batch to check_tree."""
    try:
        data = orjson.dumps(items)
    except TypeError:  # orjson.JSONEncodeError is one
        return False
    if b"\\u0000" in data or _LONG_NUMBER.search(data):
        return False
    depth = deepest = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKET):
        depth += 1 if byte in _OPENING else -1
        deepest = max(deepest, depth)
    return deepest <= DEFAULT_MAX_DEPTH


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _existing(tx: WriteTx, refs: dict[str, Ref]) -> dict[str, Any]:
    """The stored rows of the planned refs, by ref text."""
    keys = [(r.kind, r.namespace, r.name, r.version or "") for r in refs.values()]
    found: dict[str, Any] = {}
    columns = sa.tuple_(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
    for chunk in _chunks(keys):
        for row in tx.conn.execute(sa.select(assets).where(columns.in_(chunk))):
            ref = Ref(row.kind, row.namespace, row.name, row.version or None)
            found[str(ref)] = row
    return found


def _schemas_in_use(tx: WriteTx, refs: dict[str, Ref]) -> set[tuple[str, str]]:
    """The (namespace, kind) pairs with a custom-field schema: only those need checking."""
    namespaces = sorted({r.namespace for r in refs.values()})
    pairs: set[tuple[str, str]] = set()
    for chunk in _chunks(namespaces):
        rows = tx.conn.execute(sa.select(namespace_schemas.c.namespace, namespace_schemas.c.kind)
                               .where(namespace_schemas.c.namespace.in_(chunk)))
        pairs.update((row.namespace, row.kind) for row in rows)
    return pairs


def _apply(tx: WriteTx, plan: Plan, count: int) -> OpenLineageIngest:
    existing = _existing(tx, plan.refs)
    checked = _schemas_in_use(tx, plan.refs)
    result = OpenLineageIngest(events=count)
    ids: dict[str, int] = {}
    new_rows: list[tuple[Ref, dict[str, Any]]] = []
    for key, ref in plan.refs.items():
        row = existing.get(key)
        current = None if row is None else (
            read_metadata(ref.kind, row.meta, row.schema_version), row.custom)
        meta, custom = fold(plan.updates[key], current)
        if (ref.namespace, ref.kind) in checked:
            check_custom(tx.conn, ref.namespace, ref.kind, custom, "/custom")
        if row is None:
            values = tx.asset_values(ref, AssetCreate(ref=key, metadata=meta))
            values["custom"] = custom
            new_rows.append((ref, values))
            continue
        ids[key] = row.id
        if meta != current[0]:  # type: ignore[index]  # stored metadata is valid already
            meta = validate_metadata(ref.kind, meta)
        if meta != current[0] or custom != row.custom:  # type: ignore[index]
            _update(tx, ref, row, meta, custom)
            result.updated.append(key)
    _insert(tx, new_rows, ids)
    result.created = [str(ref) for ref, _ in new_rows]
    result.relations = _link(tx, plan, ids)
    return result


def _insert(tx: WriteTx, rows: list[tuple[Ref, dict[str, Any]]], ids: dict[str, int]) -> None:
    if not rows:
        return
    reserved = tx.backend.reserve_asset_ids(tx.conn, len(rows))
    for asset_id, (ref, values) in zip(reserved, rows, strict=True):
        values["id"] = asset_id
        ids[str(ref)] = asset_id
        tx.emit(Action.ASSET_CREATED, str(ref), snapshot_of(str(ref), values), asset_id)
    _INSERT_ASSETS.executemany(tx.conn, [values for _, values in rows])


def _update(tx: WriteTx, ref: Ref, row: Any, meta: dict[str, Any],
            custom: dict[str, Any]) -> None:
    spec = SPECS[ref.kind]
    digests = dict(row.digests)
    if spec.digest_fields:
        digests["sha256"] = content_digest(meta, spec.digest_fields)
    values = {
        "meta": meta, "custom": custom, "digests": digests,
        "schema_version": spec.schema_version, "revision": row.revision + 1,
        "updated_at": tx.now, "updated_by": tx.actor,
    }
    changed = _UPDATE_ASSET.execute(
        tx.conn, {**values, "row_id": row.id, "row_revision": row.revision}).rowcount
    if changed != 1:
        raise _Stale(str(ref))
    snapshot = snapshot_of(str(ref), {
        "description": row.description, "owners": row.owners, "tags": row.tags,
        "state": row.state, **values,
    })
    snapshot["changed"] = sorted(
        name for name, old, new in (("metadata", row.meta, meta), ("custom", row.custom, custom))
        if old != new)
    tx.emit(Action.ASSET_UPDATED, str(ref), snapshot, row.id)


def _link(tx: WriteTx, plan: Plan, ids: dict[str, int]) -> int:
    """Add the planned edges that do not exist yet; return how many."""
    sources = sorted({ids[source] for source, _, _ in plan.edges})
    present: set[tuple[int, str, int]] = set()
    for chunk in _chunks(sources):
        rows = tx.conn.execute(
            sa.select(relations.c.source_id, relations.c.relation, relations.c.target_id)
            .where(relations.c.source_id.in_(chunk)))
        present.update((r.source_id, r.relation, r.target_id) for r in rows)
    new: list[dict[str, Any]] = []
    for (source, relation, target), properties in plan.edges.items():
        key = (ids[source], relation, ids[target])
        if key in present:
            continue
        source_ref, target_ref = plan.refs[source], plan.refs[target]
        check_edge(relation, source_ref.kind, target_ref.kind)
        present.add(key)
        new.append({"source_id": key[0], "relation": relation, "target_id": key[2],
                    "properties": properties, "created_at": tx.now, "created_by": tx.actor})
        tx.emit(Action.RELATION_ADDED, source,
                relation_payload(source, relation, target, properties), key[0])
    if new:
        _INSERT_RELATIONS.executemany(tx.conn, new)
    return len(new)


_INSERT_ASSETS = Prepared(assets.insert())
_INSERT_RELATIONS = Prepared(relations.insert())
_UPDATE_ASSET = Prepared(assets.update().where(assets.c.id == sa.bindparam("row_id"),
                                               assets.c.revision == sa.bindparam("row_revision")))
