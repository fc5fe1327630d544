"""Loading many assets and relations at once: imports, migrations from other registries, and
the benchmark's synthetic organisation.

Records stream in (an asset before any relation that names it) and are written in batches,
one transaction per batch, as multi-row inserts: a failed batch leaves the batches before it
committed, so a load can be resumed after fixing the record the error names. Each record is
validated exactly as :meth:`Registry.create_asset` validates it (ref grammar, version
policy, metadata schema, namespace custom-field schema, state, labels) and gets the same
event (same action, same canonical payload and SHA-256, written by
:meth:`WriteTx.flush_events`), so the event log cannot tell a bulk-loaded asset from one
created by hand. Model versions carry their number in the ref, and the model's version
counter moves to the highest number loaded, so a later ``register_version`` continues it.

SQLite keeps ``synchronous=FULL``: with thousands of rows per commit, the one ``fsync`` per
batch costs too little to trade durability for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from modelatlas.errors import AlreadyExists, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.kinds import check_version_policy
from modelatlas.refs import Ref
from modelatlas.registry._queries import find_id
from modelatlas.registry._tx import WriteTx, relation_payload, snapshot_of
from modelatlas.registry.service import Registry
from modelatlas.registry.types import AssetCreate, RelationCreate
from modelatlas.relations import check_edge
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import asset_tags, assets, relations

__all__ = ["BulkRecord", "BulkStats", "bulk_load"]

BulkRecord = AssetCreate | RelationCreate
Progress = Callable[["BulkStats"], None]
# refs kept in memory to resolve relations without a query; past this the cache starts
# again (a miss costs one indexed lookup), so memory stays bounded at any scale.
CACHE_LIMIT = 200_000


@dataclass
class BulkStats:
    assets: int = 0
    relations: int = 0
    events: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def assets_per_second(self) -> float:
        return self.assets / self.seconds if self.seconds else 0.0


def bulk_load(
    registry: Registry,
    records: Iterable[BulkRecord],
    *,
    batch_size: int = 10_000,
    progress: Progress | None = None,
    actor: str | None = None,
) -> BulkStats:
    """Write ``records`` in transactions of ``batch_size`` records; return what was written.

    Errors name the record by its position in the stream (``/records/<index>/...``).
    """
    if batch_size < 1:
        raise InvalidInput.at("/batch_size", "must be at least 1")
    loader = _Loader(registry, actor or registry.settings.actor)
    started = time.perf_counter()
    batch: list[tuple[int, BulkRecord]] = []
    for index, record in enumerate(records):
        batch.append((index, record))
        if len(batch) >= batch_size:
            loader.write(batch)
            batch = []
            loader.stats.seconds = time.perf_counter() - started
            if progress is not None:
                progress(loader.stats)
    if batch:
        loader.write(batch)
    loader.stats.seconds = time.perf_counter() - started
    if progress is not None and batch:
        progress(loader.stats)
    return loader.stats


Node = tuple[int, Ref]


class _Loader:
    def __init__(self, registry: Registry, actor: str) -> None:
        self.registry = registry
        self.actor = actor
        self.stats = BulkStats()
        self.known: dict[str, Node] = {}  # ref text -> id and parsed ref

    def write(self, batch: list[tuple[int, BulkRecord]]) -> None:
        asset_records = [(i, r) for i, r in batch if isinstance(r, AssetCreate)]
        relation_records = [(i, r) for i, r in batch if isinstance(r, RelationCreate)]
        written: dict[str, Node] = {}
        try:
            with self.registry.db.write() as conn:
                tx = WriteTx(conn, self.actor)
                written = self._assets(tx, asset_records)
                self.known.update(written)
                self._relations(tx, relation_records)
                events = len(tx.pending)
                tx.flush_events()
        except IntegrityError:
            for ref in written:  # rolled back: forget ids that no longer exist
                self.known.pop(ref, None)
            raise self._explain_conflict(asset_records, relation_records) from None
        except BaseException:
            for ref in written:
                self.known.pop(ref, None)
            raise
        if len(self.known) > CACHE_LIMIT:
            self.known.clear()
        self.stats.assets += len(asset_records)
        self.stats.relations += len(relation_records)
        self.stats.events += events
        self.stats.batches += 1

    # assets -------------------------------------------------------------------------------
    def _assets(self, tx: WriteTx, records: list[tuple[int, AssetCreate]]) -> dict[str, Node]:
        if not records:
            return {}
        rows: list[dict[str, Any]] = []
        refs: list[Ref] = []
        seen: set[str] = set()
        for index, spec in records:
            path = f"/records/{index}"
            ref = Ref.parse(spec.ref, path=f"{path}/ref")
            check_version_policy(ref, f"{path}/ref", assigned="explicit")
            text = str(ref)
            if text in seen:
                raise AlreadyExists(f"{ref} appears twice in the load",
                                    errors=[FieldError(f"{path}/ref", "already exists")])
            seen.add(text)
            rows.append(tx.asset_values(ref, spec, path=path))
            refs.append(ref)
        ids = tx.backend.reserve_asset_ids(tx.conn, len(rows))
        tags: list[dict[str, Any]] = []
        for asset_id, row, ref in zip(ids, rows, refs, strict=True):
            row["id"] = asset_id
            tags.extend({"asset_id": asset_id, "tag": t} for t in row["tags"])
            action = (Action.VERSION_REGISTERED if ref.kind == "model_version"
                      else Action.ASSET_CREATED)
            tx.emit(action, str(ref), snapshot_of(str(ref), row), asset_id)
        _INSERT_ASSETS.insert_many(tx.conn, rows)
        for row in rows:  # sensitive values, sealed once their rows exist
            tx.sealing.store_new(row["id"], row)
        _INSERT_TAGS.insert_many(tx.conn, tags)
        _advance_counters(tx, refs)
        return {str(ref): (asset_id, ref) for asset_id, ref in zip(ids, refs, strict=True)}

    # relations ----------------------------------------------------------------------------
    def _relations(self, tx: WriteTx, records: list[tuple[int, RelationCreate]]) -> None:
        if not records:
            return
        rows: list[dict[str, Any]] = []
        seen: set[tuple[int, str, int]] = set()
        for index, spec in records:
            path = f"/records/{index}"
            source_id, source = self._node(tx, spec.source, f"{path}/source")
            target_id, target = self._node(tx, spec.target, f"{path}/target")
            check_edge(spec.relation, source.kind, target.kind)
            key = (source_id, spec.relation, target_id)
            if key in seen:
                raise AlreadyExists(f"{source} {spec.relation} {target} appears twice",
                                    errors=[FieldError(path, "already exists")])
            seen.add(key)
            rows.append({
                "source_id": source_id, "relation": spec.relation, "target_id": target_id,
                "properties": spec.properties, "created_at": tx.now, "created_by": tx.actor,
            })
            tx.emit(Action.RELATION_ADDED, str(source),
                    relation_payload(str(source), spec.relation, str(target), spec.properties),
                    source_id)
        _INSERT_RELATIONS.insert_many(tx.conn, rows)

    def _node(self, tx: WriteTx, text: str, path: str) -> Node:
        node = self.known.get(text)
        if node is not None:
            return node
        ref = Ref.parse(text, path=path)
        node = self.known.get(str(ref))
        if node is None:
            asset_id = tx.find_id(ref)
            if asset_id is None:
                raise NotFound(f"{ref} does not exist: load an asset before its relations",
                               errors=[FieldError(path, "no such asset")])
            node = (asset_id, ref)
        self.known[text] = node
        return node

    def _explain_conflict(
        self,
        asset_records: list[tuple[int, AssetCreate]],
        relation_records: list[tuple[int, RelationCreate]],
    ) -> AlreadyExists:
        """After a unique-constraint failure (rolled back), name the record that hit it."""
        with self.registry.db.read() as conn:
            for index, spec in asset_records:
                ref = Ref.parse(spec.ref)
                if find_id(conn, ref) is not None:
                    return AlreadyExists(f"{ref} already exists",
                                         errors=[FieldError(f"/records/{index}/ref",
                                                            "already exists")])
        first = relation_records[0][0] if relation_records else 0
        return AlreadyExists(
            "a relation in this batch already exists",
            errors=[FieldError(f"/records/{first}", "a relation of the batch exists")],
        )


_INSERT_ASSETS = Prepared(assets.insert())
_INSERT_TAGS = Prepared(asset_tags.insert())
_INSERT_RELATIONS = Prepared(relations.insert())


def _advance_counters(tx: WriteTx, refs: list[Ref]) -> None:
    """Move each model's version counter to the highest number loaded (never back)."""
    highest: dict[tuple[str, str, str], int] = {}
    for ref in refs:
        if ref.kind == "model_version" and ref.version is not None:
            key = ("model_version", ref.namespace, ref.name)
            highest[key] = max(highest.get(key, 0), int(ref.version))
    if highest:
        tx.backend.advance_counters(tx.conn, highest)
