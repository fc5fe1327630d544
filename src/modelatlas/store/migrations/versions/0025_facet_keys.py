"""facet keys: each metric row carries its asset's single-valued facet values

``kind:K namespace:N metrics.auc>=X`` finds its ~10k hits at 1M versions as one range of
``(name, kind, namespace, value, asset_id)`` (0024) in ~1 ms; counting five facets over
them then read every hit's asset row (the ``meta`` JSON, ``state``): 5-8 us a hit on rows
scattered through a multi-GB file. ``asset_metrics.facets`` holds the asset's facet key:
the values of the single-valued facets of ``search/facets.yaml`` (columns, JSON paths,
buckets), as one JSON array in the order of ``facet_keys``. The key is the last column of
the scoped index, so counting groups that range by key (a few hundred distinct keys) and
splits the keys into per-facet counts: no asset row is read.

``facet_keys`` records which facet each array position holds, as written here. The search
engine uses the keys only while they agree with its configuration; a changed
``facets.yaml`` falls back to reading the rows (exact, slower) until a migration
rewrites the triggers and the keys for it.

Revision ID: 0025
Revises: 0024
Classification: cautious (asset_metrics is rebuilt from every metric row in the
migration's transaction, as in 0024: time grows with the registry, and writes wait)
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

OLD_INDEX = "ix_asset_metrics_name_kind_namespace_value_asset_id"
NEW_INDEX = "ix_asset_metrics_name_kind_namespace_value_asset_id_facets"

# The single-valued facets of search/facets.yaml as of this revision, in its order: frozen
# here (a migration must not change with later code); search/facet_keys.py compares them
# with the live configuration.
KEYED: list[tuple[str, dict[str, Any]]] = [
    ("kind", {"type": "column", "column": "kind"}),
    ("namespace", {"type": "column", "column": "namespace"}),
    ("state", {"type": "column", "column": "state"}),
    ("framework", {"type": "json", "path": ["framework"]}),
    ("task", {"type": "json", "path": ["task"]}),
    ("auc", {"type": "buckets", "path": ["metrics", "auc"],
             "bounds": [0.5, 0.7, 0.8, 0.9, 0.95]}),
    ("latency_p95_ms", {"type": "buckets", "path": ["metrics", "latency_p95_ms"],
                        "bounds": [5.0, 10.0, 20.0, 50.0, 100.0]}),
]


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "facet_keys",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("facet", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
    )
    op.bulk_insert(sa.table("facet_keys", sa.column("position", sa.Integer),
                            sa.column("facet", sa.String), sa.column("spec", sa.Text)),
                   [{"position": i, "facet": name, "spec": json.dumps(spec, sort_keys=True)}
                    for i, (name, spec) in enumerate(KEYED)])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()
    op.create_index(NEW_INDEX, "asset_metrics", ["name", "kind", "namespace", "value",
                                                 "asset_id", "facets"])


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name="asset_metrics")
    op.drop_table("facet_keys")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_trigger(keyed=False)
        op.drop_column("asset_metrics", "facets")
    else:
        _sqlite_drop_triggers()
        _sqlite_rebuild(keyed=False)
        _sqlite_triggers(keyed=False)
    op.create_index(OLD_INDEX, "asset_metrics", ["name", "kind", "namespace", "value",
                                                 "asset_id"])


# The key's SQL ------------------------------------------------------------------------
def _label(value: float) -> str:
    return f"{value:g}"


def _bucket_labels(bounds: list[float]) -> list[str]:
    labels = [f"<{_label(bounds[0])}"]
    labels += [f"{_label(lo)}-{_label(hi)}" for lo, hi in itertools.pairwise(bounds)]
    return [*labels, f">={_label(bounds[-1])}"]


def _buckets(number: str, bounds: list[float], *, cast: str) -> str:
    """search/facets.py ``_bucket``: ``[lo, hi)`` ranges, below-first and from-last."""
    labels = _bucket_labels(bounds)
    whens = " ".join(f"WHEN {number} < CAST({b!r} AS {cast}) THEN '{label}'"
                     for b, label in zip(bounds, labels, strict=False))
    return f"CASE {whens} WHEN {number} IS NOT NULL THEN '{labels[-1]}' ELSE NULL END"


def _sqlite_value(row: str, spec: dict[str, Any]) -> str:
    """One facet's value as search/dialects.py ``SQLiteJson`` computes it, as text."""
    if spec["type"] == "column":
        return f"{row}.{spec['column']}"
    path = "'$" + "".join(f'."{part}"' for part in spec["path"]) + "'"
    extract, kind = f"json_extract({row}.meta, {path})", f"json_type({row}.meta, {path})"
    if spec["type"] == "json":
        text = f"CAST({extract} AS TEXT)"
        return (f"CASE {kind} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
                f"WHEN 'text' THEN {text} WHEN 'integer' THEN {text} WHEN 'real' THEN {text} "
                "ELSE NULL END")
    number = f"(CASE {kind} WHEN 'integer' THEN CAST({extract} AS FLOAT) " \
             f"WHEN 'real' THEN CAST({extract} AS FLOAT) ELSE NULL END)"
    return _buckets(number, spec["bounds"], cast="FLOAT")


def _postgresql_value(row: str, spec: dict[str, Any]) -> str:
    """One facet's value as search/dialects.py ``PostgreSQLJson`` computes it, as text."""
    if spec["type"] == "column":
        return f"{row}.{spec['column']}"
    path = "'{" + ",".join(spec["path"]) + "}'"
    node, text = f"({row}.meta #> {path})", f"({row}.meta #>> {path})"
    if spec["type"] == "json":
        return (f"CASE WHEN jsonb_typeof({node}) IN ('string', 'number', 'boolean') "
                f"THEN {text} ELSE NULL END")
    number = f"(CASE WHEN jsonb_typeof({node}) = 'number' THEN CAST({text} AS FLOAT) " \
             "ELSE NULL END)"
    return _buckets(number, spec["bounds"], cast="FLOAT")


def _key(row: str, *, postgresql: bool) -> str:
    """The asset's facet key: a JSON array of its facets' values (text or null)."""
    if postgresql:
        values = ", ".join(_postgresql_value(row, spec) for _, spec in KEYED)
        return f"CAST(json_build_array({values}) AS TEXT)"
    return "json_array(" + ", ".join(_sqlite_value(row, spec) for _, spec in KEYED) + ")"


# SQLite ---------------------------------------------------------------------------------
def _sqlite_upgrade() -> None:
    _sqlite_drop_triggers()
    _sqlite_rebuild(keyed=True)
    _sqlite_triggers(keyed=True)


def _sqlite_drop_triggers() -> None:
    _run("DROP TRIGGER assets_metrics_insert")
    _run("DROP TRIGGER assets_metrics_update")


def _sqlite_rebuild(*, keyed: bool) -> None:
    """One copy into the new shape, as in 0024 (SQLite adds a NOT NULL column only with a
    default)."""
    facets = ", facets TEXT NOT NULL" if keyed else ""
    _run(f"""
        CREATE TABLE asset_metrics_new (
            asset_id INTEGER NOT NULL, name TEXT NOT NULL, value FLOAT NOT NULL,
            kind VARCHAR(32) NOT NULL, namespace VARCHAR(64) NOT NULL{facets},
            CONSTRAINT pk_asset_metrics PRIMARY KEY (asset_id, name),
            CONSTRAINT fk_asset_metrics_asset_id_assets FOREIGN KEY(asset_id)
                REFERENCES assets (id))""")
    key = f", {_key('a', postgresql=False)}" if keyed else ""
    _run(f"""
        INSERT INTO asset_metrics_new SELECT m.asset_id, m.name, m.value, a.kind,
            a.namespace{key}
        FROM asset_metrics AS m JOIN assets AS a ON a.id = m.asset_id""")
    _run("DROP TABLE asset_metrics")  # and its indexes
    _run("ALTER TABLE asset_metrics_new RENAME TO asset_metrics")
    op.create_index("ix_asset_metrics_name_value_asset_id", "asset_metrics",
                    ["name", "value", "asset_id"])


def _sqlite_triggers(*, keyed: bool) -> None:
    # the key is computed once per asset (the derived table), not once per metric
    key, column = (f", k.facets FROM (SELECT {_key('new', postgresql=False)} AS facets) AS k,",
                   ", facets") if keyed else (" FROM", "")
    rows = f"""
        INSERT INTO asset_metrics (asset_id, name, value, kind, namespace{column})
        SELECT new.id, m.key, m.value, new.kind, new.namespace{key}
            json_each(new.meta, '$.metrics') AS m
        WHERE json_type(new.meta, '$.metrics') = 'object' AND m.type IN ('integer', 'real')
    """
    # the key holds the state: a state change rewrites the asset's few metric rows
    columns = "meta, kind, namespace, state" if keyed else "meta, kind, namespace"
    _run(f"""
        CREATE TRIGGER assets_metrics_insert AFTER INSERT ON assets BEGIN
            {rows};
        END""")
    _run(f"""
        CREATE TRIGGER assets_metrics_update AFTER UPDATE OF {columns} ON assets BEGIN
            DELETE FROM asset_metrics WHERE asset_id = old.id;
            {rows};
        END""")


# PostgreSQL -----------------------------------------------------------------------------
def _postgresql_upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name="asset_metrics")
    op.add_column("asset_metrics", sa.Column("facets", sa.Text, nullable=True))
    _run(f"""
        UPDATE asset_metrics SET facets = {_key('a', postgresql=True)}
        FROM assets AS a WHERE a.id = asset_metrics.asset_id""")
    op.alter_column("asset_metrics", "facets", nullable=False)
    _postgresql_trigger(keyed=True)


def _postgresql_trigger(*, keyed: bool) -> None:
    column, key = (", facets)", f", {_key('NEW', postgresql=True)}") if keyed else (")", "")
    _run(f"""
        CREATE OR REPLACE FUNCTION modelatlas_asset_metrics() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM asset_metrics WHERE asset_id = OLD.id;
            END IF;
            IF jsonb_typeof(NEW.meta -> 'metrics') = 'object' THEN
                INSERT INTO asset_metrics (asset_id, name, value, kind, namespace{column}
                SELECT NEW.id, m.key, (m.value #>> '{{}}')::double precision, NEW.kind,
                    NEW.namespace{key}
                FROM jsonb_each(NEW.meta -> 'metrics') AS m
                WHERE jsonb_typeof(m.value) = 'number';
            END IF;
            RETURN NULL;
        END $$""")
    columns = "meta, kind, namespace, state" if keyed else "meta, kind, namespace"
    _run("DROP TRIGGER assets_metrics ON assets")
    _run(f"""
        CREATE TRIGGER assets_metrics AFTER INSERT OR UPDATE OF {columns} ON assets
        FOR EACH ROW EXECUTE FUNCTION modelatlas_asset_metrics()""")
