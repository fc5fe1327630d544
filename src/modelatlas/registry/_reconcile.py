"""Catalog reconciliation, mixed into :class:`Registry`: an external catalog's datasets
(a Marquez listing, a DataHub export; parsed by :mod:`modelatlas.integrations.catalogs`)
against the registry's.

- **missing**: in the catalog, not in the registry (or not readable by the caller);
- **extra**: datasets the caller may read in the compared namespaces (``namespace``, or
  every namespace the catalog's datasets map to) that the catalog does not list;
- **drifted**: in both, and the catalog's fields differ from those of the dataset's
  current schema: the ``schema`` asset its newest version's newest ``conforms_to`` edge
  points at (what OpenLineage ingestion links when a schema facet changes).

Reads are bounded by the catalog: its keys are looked up in IN lists of 500, and the
registry's side of ``extra`` is read a page of 500 (namespace, name) keys at a time.
``sync=True`` then writes, in one transaction, each missing dataset (``@live``, with its
schema) and a new schema version for each drifted one, linked by ``conforms_to``; the
schema version is the digest OpenLineage ingestion would give the same columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.governance.principal import Principal
from modelatlas.integrations.catalogs import (
    CatalogDataset,
    detect_format,
    field_changes,
    read_catalog,
)
from modelatlas.lineage.openlineage import schema_for
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry._guards import is_local
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.reconcile_types import CatalogDataset as CatalogDatasetOut
from modelatlas.registry.reconcile_types import (
    CatalogReconcileReport,
    DriftedDataset,
    FieldDiff,
    RegistryDataset,
)
from modelatlas.registry.types import AssetCreate
from modelatlas.store.tables import assets, relations

_CHUNK = 500
Key = tuple[str, str]


class ReconcileService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def reconcile_catalog(self, export: Any, *, format: str = "auto",
                          namespace: str | None = None, sync: bool = False,
                          actor: str | None = None,
                          principal: Principal | None = None) -> CatalogReconcileReport:
        """Compare an external catalog export with the registry's datasets (module doc);
        with ``sync``, also write what the catalog has and the registry lacks. Reading
        needs nothing beyond read rights (what the caller may not read counts as absent);
        ``sync`` needs ``asset.create`` and ``relation.add`` in each namespace it writes."""
        shape = detect_format(export) if format == "auto" else format
        entries = read_catalog(export, shape)
        if namespace is not None:
            check_namespace(namespace, path="/namespace")
            entries = [e for e in entries if e.ref.namespace == namespace]
        visible = self._visible(principal)
        with self.db.read() as conn:
            found = _datasets(conn, [(e.ref.namespace, e.ref.name) for e in entries], visible)
            schemas = _schemas(conn, [row.id for row in found.values()], visible)
            spaces = [namespace] if namespace else sorted({e.ref.namespace for e in entries})
            keys = {(e.ref.namespace, e.ref.name) for e in entries}
            extra = [RegistryDataset(namespace=r.namespace, name=r.name, ref=_text(r))
                     for r in _all_datasets(conn, spaces, visible)
                     if (r.namespace, r.name) not in keys]
        report = CatalogReconcileReport(format=shape, namespace=namespace, in_sync=True,
                                        compared=len(entries), extra=extra)
        todo = _compare(entries, found, schemas, report)
        report.in_sync = not (report.missing or report.extra or report.drifted)
        if sync and todo:
            self._sync(todo, found, report, actor, principal)
        return report

    def _sync(self, todo: list[CatalogDataset], found: dict[Key, Any],
              report: CatalogReconcileReport, actor: str | None,
              principal: Principal | None) -> None:
        if not is_local(principal):
            for space in sorted({e.ref.namespace for e in todo}):
                self.authorize(principal, "asset.create", space, kind="dataset")
                self.authorize(principal, "relation.add", space, kind="dataset")
        with self._write(self.acting(principal, actor)) as tx:
            for entry in todo:
                row = found.get((entry.ref.namespace, entry.ref.name))
                report.created += _write_entry(tx, entry, row)
        report.synced = True


def _compare(entries: list[CatalogDataset], found: dict[Key, Any],
             schemas: dict[int, Any], report: CatalogReconcileReport) -> list[CatalogDataset]:
    """Fill the report's missing and drifted lists; return the entries sync would write."""
    todo: list[CatalogDataset] = []
    for entry in entries:
        row = found.get((entry.ref.namespace, entry.ref.name))
        if row is None:
            report.missing.append(CatalogDatasetOut(
                ref=str(entry.ref), source=entry.origin,
                fields=None if entry.fields is None else len(entry.fields)))
            todo.append(entry)
            continue
        if entry.fields is None:
            continue  # the catalog says nothing of its columns: nothing to compare
        schema = schemas.get(row.id)
        stored = list((schema.meta or {}).get("fields") or []) if schema is not None else []
        changes = field_changes(entry.fields, stored)
        if changes:
            report.drifted.append(DriftedDataset(
                ref=_text(row), schema_ref=None if schema is None else _text(schema),
                changes=[FieldDiff(field=c.field, change=c.change, catalog=c.catalog,
                                   registry=c.registry) for c in changes]))
            todo.append(entry)
    return todo


def _write_entry(tx: WriteTx, entry: CatalogDataset, row: Any) -> list[str]:
    """Write one catalog entry: the dataset when it is missing, and its schema."""
    created: list[str] = []
    if row is None:
        ref = entry.ref
        dataset_id, _ = tx.insert_asset(ref, AssetCreate(
            ref=str(ref), description="", custom={"catalog": entry.origin}))
        created.append(str(ref))
    else:
        ref = Ref("dataset", row.namespace, row.name, row.version or None)
        dataset_id = int(row.id)
    if not entry.fields:
        return created
    made = schema_for(ref, [{"name": f.name, "type": f.type, "description": f.description}
                            for f in entry.fields])
    if made is None:
        return created
    schema_ref, flat = made
    nullable = {f.name: f.nullable for f in entry.fields if f.nullable is not None}
    for item in flat:
        if item["name"] in nullable:
            item["nullable"] = nullable[item["name"]]
    schema_id = tx.find_id(schema_ref)
    if schema_id is None:
        schema_id, _ = tx.insert_asset(schema_ref, AssetCreate(
            ref=str(schema_ref), metadata={"fields": flat}, custom={"catalog": entry.origin}))
        created.append(str(schema_ref))
    linked = tx.conn.execute(sa.select(relations.c.id).where(
        relations.c.source_id == dataset_id, relations.c.relation == "conforms_to",
        relations.c.target_id == schema_id)).first()
    if linked is None:
        tx.link((dataset_id, ref), "conforms_to", (schema_id, schema_ref))
    return created


# reads --------------------------------------------------------------------------------------

def _text(row: Any) -> str:
    return str(Ref(row.kind, row.namespace, row.name, row.version or None))


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


_ROW = (assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)


def _newest(where: list[Any], visible: ColumnElement[bool] | None) -> Any:
    """The newest readable dataset per (namespace, name) among those ``where`` keeps."""
    if visible is not None:
        where = [*where, visible]
    return (sa.select(sa.func.max(assets.c.id).label("id"))
            .where(assets.c.kind == "dataset", *where)
            .group_by(assets.c.namespace, assets.c.name))


def _datasets(conn: Connection, keys: list[Key],
              visible: ColumnElement[bool] | None) -> dict[Key, Any]:
    """The newest readable version of each dataset named by ``keys``."""
    found: dict[Key, Any] = {}
    pair = sa.tuple_(assets.c.namespace, assets.c.name)
    for chunk in _chunks(sorted(set(keys))):
        newest = _newest([pair.in_(chunk)], visible).subquery()
        for row in conn.execute(sa.select(*_ROW).join(newest, newest.c.id == assets.c.id)):
            found[row.namespace, row.name] = row
    return found


def _schemas(conn: Connection, dataset_ids: list[int],
             visible: ColumnElement[bool] | None) -> dict[int, Any]:
    """For each dataset id, the schema its newest ``conforms_to`` edge points at."""
    found: dict[int, Any] = {}
    for chunk in _chunks(sorted(dataset_ids)):
        newest = (sa.select(sa.func.max(relations.c.id).label("rid"))
                  .where(relations.c.source_id.in_(chunk),
                         relations.c.relation == "conforms_to")
                  .group_by(relations.c.source_id).subquery())
        stmt = (sa.select(relations.c.source_id, *_ROW, assets.c.meta)
                .select_from(relations.join(newest, newest.c.rid == relations.c.id)
                             .join(assets, assets.c.id == relations.c.target_id))
                .where(assets.c.kind == "schema"))
        if visible is not None:
            stmt = stmt.where(visible)
        for row in conn.execute(stmt):
            found[int(row.source_id)] = row
    return found


def _all_datasets(conn: Connection, namespaces: list[str],
                  visible: ColumnElement[bool] | None) -> Iterator[Any]:
    """The newest readable version of every dataset in ``namespaces``, a page of
    500 (namespace, name) keys at a time (keyset order), never all at once."""
    if not namespaces:
        return
    pair = sa.tuple_(assets.c.namespace, assets.c.name)
    after: Key | None = None
    while True:
        where: list[Any] = [assets.c.namespace.in_(namespaces)]
        if after is not None:
            where.append(pair > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
        newest = _newest(where, visible).order_by(assets.c.namespace, assets.c.name) \
            .limit(_CHUNK).subquery()
        rows = conn.execute(sa.select(*_ROW).join(newest, newest.c.id == assets.c.id)
                            .order_by(assets.c.namespace, assets.c.name)).all()
        yield from rows
        if len(rows) < _CHUNK:
            return
        after = (rows[-1].namespace, rows[-1].name)
