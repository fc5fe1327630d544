"""The service layer's OpenLineage ingestion, mixed into :class:`Registry`.

One request (one event or a batch) is one transaction, all or nothing: every event is
validated against its OpenLineage schema first (an error names ``/<index>/<json path>``),
then mapped (:mod:`modelatlas.lineage.openlineage.mapping`) into per-asset updates and
edges. The transaction reads the assets the batch names in one query per 500, folds each
asset's updates over its stored values, and writes only what changed: new assets and
edges in one multi-row insert per 500 each (``Prepared.insert_many``), changed assets one
update each, each with the same events (``asset.created``, ``asset.updated``,
``relation.added``) the other write paths append. An event delivered twice therefore
writes nothing the second time.

A single event sent with ``grouped=True`` (the HTTP route does) is checked and mapped
first, then runs in a transaction it shares with concurrent single events, in its own
savepoint (:mod:`modelatlas.registry._group_commit`): one commit for the group, the same
writes and events as alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from modelatlas.errors import Conflict, PayloadTooLarge
from modelatlas.events import Action
from modelatlas.governance.principal import Principal
from modelatlas.jsonsafe import check_tree
from modelatlas.kinds import SPECS, read_metadata, validate_metadata
from modelatlas.lineage.openlineage import (
    OpenLineageInvalid,
    Plan,
    fold,
    plainly_safe,
    validate_event,
)
from modelatlas.refs import Ref
from modelatlas.registry._group_commit import GroupCommit
from modelatlas.registry._guards import is_local
from modelatlas.registry._rows import content_digest
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx, check_custom, relation_payload, snapshot_of
from modelatlas.registry.types import AssetCreate
from modelatlas.relations import check_edge
from modelatlas.store.prepared import Prepared, driver_json, json_as_text
from modelatlas.store.tables import assets, relations

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


class OpenLineageService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def ingest_openlineage(self, events: Any, *, actor: str | None = None,
                           grouped: bool = False,
                           principal: Principal | None = None) -> OpenLineageIngest:
        """Ingest one OpenLineage event (a JSON object) or a batch (a JSON array of them),
        exactly as the OpenLineage HTTP transport sends them; see docs/openlineage.md.

        ``grouped``: a single event shares its transaction and commit with concurrent
        grouped calls (:mod:`modelatlas.registry._group_commit`), each still all or
        nothing and answered after its commit; the HTTP route sets it.

        The caller needs ``asset.create`` in every namespace the events write assets in
        and ``relation.add`` in every namespace their edges start from; one missing right
        refuses the whole request (403) before anything is written."""
        actor = self.acting(principal, actor)
        if grouped and not isinstance(events, list):
            # planned and authorised here, in the caller's thread, before joining a group:
            # a refused request never enters one, so it cannot fail the others
            return self._openlineage_group().submit(
                lambda: _work(self._authorized_plan(events, principal)), actor)
        plan = self._authorized_plan(events, principal)
        for _attempt in range(3):
            try:
                with self._write(actor) as tx:
                    return _apply(tx, plan)
            except (IntegrityError, _Stale):
                continue  # a concurrent request wrote the same assets: read them again
        raise Conflict("the assets of this batch are being written concurrently; retry")

    def _authorized_plan(self, events: Any, principal: Principal | None) -> Plan:
        """The request's plan, once the caller may write all of it. Creating and updating
        an asset both need contributor (``asset.create`` names the pair: an event cannot
        tell which it will be until the transaction reads the store)."""
        plan = _plan(events)
        if is_local(principal):
            return plan
        for namespace in sorted({ref.namespace for ref in plan.refs.values()}):
            self.authorize(principal, "asset.create", namespace)
        for namespace in sorted({plan.refs[source].namespace for source, _, _ in plan.edges}):
            self.authorize(principal, "relation.add", namespace)
        return plan

    def _openlineage_group(self) -> GroupCommit[OpenLineageIngest]:
        group: GroupCommit[OpenLineageIngest] | None = self.__dict__.get("_ol_group")
        if group is None:
            with _GROUP_LOCK:
                group = self.__dict__.get("_ol_group")
                if group is None:
                    group = GroupCommit(self._write, retry_on=(IntegrityError, _Stale))
                    self.__dict__["_ol_group"] = group
        return group


_GROUP_LOCK = threading.Lock()


def _plan(events: Any) -> Plan:
    """Check and map a request's events (no database): the plan of what they write."""
    batch = isinstance(events, list)
    items: list[Any] = events if batch else [events]
    if len(items) > MAX_EVENTS:
        raise PayloadTooLarge(f"a batch holds at most {MAX_EVENTS} events; split it")
    if not plainly_safe(items):
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
    return plan


def _work(plan: Plan) -> Callable[[WriteTx], OpenLineageIngest]:
    return lambda tx: _apply(tx, plan)


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


# The reads of a request run on the driver's cursor with SQL written once per chunk
# size: built through SQLAlchemy (a tuple IN, rows with type processing) they cost about
# 1.5 ms a request, six times the reads themselves, and a single event pays them whole.
class _Row(NamedTuple):
    id: int
    kind: str
    namespace: str
    name: str
    version: str
    description: str
    owners: Any
    tags: Any
    meta: Any
    custom: Any
    schema_version: int
    state: str
    digests: Any
    revision: int


_JSON_FIELDS = ("owners", "tags", "meta", "custom", "digests")
# A join on VALUES, not "(kind, namespace, name, version) IN (VALUES ...)": SQLite plans
# that IN as a scan of the whole unique index, the join as one index search per key.
_SELECT_ASSETS = (
    f"SELECT {', '.join(f'a.{c}' for c in _Row._fields)} FROM (VALUES {{rows}}) AS k "
    "JOIN assets AS a ON a.kind = k.column1 AND a.namespace = k.column2 "
    "AND a.name = k.column3 AND a.version = k.column4")
# Both per-namespace settings a write consults, in one statement: which (namespace, kind)
# pairs have a custom-field schema (only those are checked), and which have sensitive
# fields (for the sealing; NULL fields marks a schema row).
_SELECT_SETTINGS = (
    "SELECT namespace, kind, NULL FROM namespace_schemas WHERE namespace IN ({rows}) "
    "UNION ALL SELECT namespace, kind, fields FROM sensitive_fields WHERE namespace IN ({rows})")
_SELECT_EDGES = "SELECT source_id, relation, target_id FROM relations WHERE source_id IN ({rows})"


@lru_cache(maxsize=256)
def _sql(template: str, count: int, width: int, mark: str) -> str:
    one = mark if width == 1 else f"({', '.join([mark] * width)})"
    return template.format(rows=", ".join([one] * count))


def _select(tx: WriteTx, template: str, keys: list[Any], width: int,
            repeat: int = 1) -> Iterator[Any]:
    """Rows of ``template`` for ``keys`` (values, or tuples of ``width`` values), read in
    chunks of 500 on the driver's cursor, in the caller's transaction; a template that
    lists the keys ``repeat`` times gets them that many times."""
    mark = "?" if tx.conn.dialect.paramstyle == "qmark" else "%s"
    cursor = tx.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(keys):
            params = [v for key in chunk for v in key] if width > 1 else chunk
            cursor.execute(_sql(template, len(chunk), width, mark), params * repeat)
            yield from cursor.fetchall()
    finally:
        cursor.close()


def _existing(tx: WriteTx, refs: dict[str, Ref]) -> dict[str, Any]:
    """The stored rows of the planned refs, by ref text."""
    keys = [(r.kind, r.namespace, r.name, r.version or "") for r in refs.values()]
    texts = dict(zip(keys, refs, strict=True))
    decode = json_as_text(tx.conn)
    found: dict[str, _Row] = {}
    for raw in _select(tx, _SELECT_ASSETS, keys, 4):
        row = _Row._make(raw)
        if decode:
            row = row._replace(**{f: orjson.loads(getattr(row, f)) for f in _JSON_FIELDS})
        found[texts[row.kind, row.namespace, row.name, row.version]] = row
    return found


def _schemas_in_use(tx: WriteTx, refs: dict[str, Ref]) -> set[tuple[str, str]]:
    """The (namespace, kind) pairs with a custom-field schema: only those need checking.
    The same read gives the transaction's sealing the sensitive fields of every pair the
    request writes (none for most), so it asks nothing per asset."""
    namespaces = sorted({r.namespace for r in refs.values()})
    schemas: set[tuple[str, str]] = set()
    sensitive: dict[tuple[str, str], list[str]] = {
        (r.namespace, r.kind): [] for r in refs.values()}
    for namespace, kind, fields in _select(tx, _SELECT_SETTINGS, namespaces, 1, repeat=2):
        if fields is None:
            schemas.add((namespace, kind))
        elif (namespace, kind) in sensitive:
            sensitive[namespace, kind] = driver_json(tx.conn, fields)
    tx.sealing.prime(sensitive)
    return schemas


def _apply(tx: WriteTx, plan: Plan) -> OpenLineageIngest:
    existing = _existing(tx, plan.refs)
    checked = _schemas_in_use(tx, plan.refs)
    result = OpenLineageIngest(events=plan.count)
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
            tx.sealing.stash_custom(values, custom)
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
    _INSERT_ASSETS.insert_many(tx.conn, [values for _, values in rows])
    for _, values in rows:  # sensitive values, once their rows exist (no-op without any)
        tx.sealing.store_new(values["id"], values)


def _update(tx: WriteTx, ref: Ref, row: Any, meta: dict[str, Any],
            custom: dict[str, Any]) -> None:
    spec = SPECS[ref.kind]
    # a facet may set a sensitive field: its value is sealed, the row keeps the marker
    sealed = {"meta": meta, "custom": custom}
    tx.sealing.reseal(row.id, ref.namespace, ref.kind, sealed,
                      tx.sealing.unseal_row(row.id, row.meta, row.custom))
    meta, custom = sealed["meta"], sealed["custom"]
    digests = dict(row.digests)
    if spec.digest_fields:
        digests["sha256"] = content_digest(meta, spec.digest_fields)
    values = {
        "meta": meta, "custom": custom, "digests": digests,
        "schema_version": spec.schema_version, "revision": row.revision + 1,
        "updated_at": tx.now, "updated_by": tx.actor,
    }
    params = {**values, "row_id": row.id, "row_revision": row.revision}
    if (spec.schema_version == row.schema_version and _same_json(meta, row.meta)
            and _same_json(digests, row.digests)):
        # only custom changed (an output's column lineage names each new run): a SET
        # without meta spares the row's metrics trigger (AFTER UPDATE OF meta: a delete
        # and three inserts tried), two thirds of such an update's time in SQLite
        for unchanged in ("meta", "digests", "schema_version"):
            del params[unchanged]
    changed = _UPDATE_ASSET.changed(tx.conn, params)
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


def _same_json(value: Any, stored: Any) -> bool:
    """The same JSON (``==`` would take ``1`` for ``true`` or ``1.0``)."""
    try:
        return bool(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
                    == orjson.dumps(stored, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # not JSON data: write it, as before
        return False


def _link(tx: WriteTx, plan: Plan, ids: dict[str, int]) -> int:
    """Add the planned edges that do not exist yet; return how many."""
    sources = sorted({ids[source] for source, _, _ in plan.edges})
    present = {(int(s), r, int(t)) for s, r, t in _select(tx, _SELECT_EDGES, sources, 1)}
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
        _INSERT_RELATIONS.insert_many(tx.conn, new)
    return len(new)


_INSERT_ASSETS = Prepared(assets.insert())
_INSERT_RELATIONS = Prepared(relations.insert())
_UPDATE_ASSET = Prepared(assets.update().where(assets.c.id == sa.bindparam("row_id"),
                                               assets.c.revision == sa.bindparam("row_revision")))
