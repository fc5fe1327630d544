"""facet keys: each metric row carries its asset's single-valued facet values

``kind:K namespace:N metrics.auc>=X`` finds its ~10k hits at 1M versions as one range of
``(name, kind, namespace, value, asset_id)`` (0024) in ~1 ms; counting five facets over
them then read every hit's asset row (the ``meta`` JSON, ``state``): 5-8 us a hit on rows
scattered through a multi-GB file. An asset's facet key is the values of the
single-valued facets of ``search/facets.yaml`` (columns, JSON paths, buckets), as one JSON
array in the order of ``facet_keys``. Each distinct key is stored once, in
``facet_key_values``, and ``asset_metrics.facet_key`` names it by its integer id: the id
is the last column of the scoped index, so counting groups that range by a small integer
(a few hundred distinct keys), then reads only those keys' texts and splits them into
per-facet counts: no asset row is read. An ~80-byte text in every index entry instead
made the index twice the size and the grouping compare long strings.

The dataset facet (the dataset versions used by the runs that produced each hit) probed
``run_inputs`` once per hit: ~20 ms for ~10k hits. ``asset_metrics.dataset_key`` names the
asset's set of run inputs (``dataset_key_values``: the sorted input ids as a JSON array;
null for none), kept by triggers on ``run_inputs``, and is the index's last column: the
range is grouped by set (about one per dataset version) and each set expanded once.

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
NEW_INDEX = "ix_asset_metrics_scoped_facets"  # the full name is over 63 characters

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
    # the two lookup tables: an id for each distinct text (a facet key, a set of inputs)
    for table, column in (("facet_key_values", "key"), ("dataset_key_values", "inputs")):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
            sa.Column(column, sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint(column, name=op.f(f"uq_{table}_{column}")),
        )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()
    op.create_index(NEW_INDEX, "asset_metrics", ["name", "kind", "namespace", "value",
                                                 "asset_id", "facet_key", "dataset_key"])


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name="asset_metrics")
    op.drop_table("facet_keys")
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER run_inputs_dataset_key ON run_inputs")
        _run("DROP FUNCTION modelatlas_run_inputs_dataset_key()")
        _postgresql_trigger(keyed=False)
        op.drop_column("asset_metrics", "facet_key")
        op.drop_column("asset_metrics", "dataset_key")
    else:
        _run("DROP TRIGGER run_inputs_dataset_key_insert")
        _run("DROP TRIGGER run_inputs_dataset_key_delete")
        _sqlite_drop_triggers()
        _sqlite_rebuild(keyed=False)
        _sqlite_triggers(keyed=False)
    op.drop_table("facet_key_values")
    op.drop_table("dataset_key_values")
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
    _sqlite_dataset_triggers()


def _sqlite_drop_triggers() -> None:
    _run("DROP TRIGGER assets_metrics_insert")
    _run("DROP TRIGGER assets_metrics_update")


def _sqlite_rebuild(*, keyed: bool) -> None:
    """One copy into the new shape, as in 0024 (SQLite adds a NOT NULL column only with a
    default)."""
    facet_key = ", facet_key INTEGER NOT NULL, dataset_key INTEGER" if keyed else ""
    _run(f"""
        CREATE TABLE asset_metrics_new (
            asset_id INTEGER NOT NULL, name TEXT NOT NULL, value FLOAT NOT NULL,
            kind VARCHAR(32) NOT NULL, namespace VARCHAR(64) NOT NULL{facet_key},
            CONSTRAINT pk_asset_metrics PRIMARY KEY (asset_id, name),
            CONSTRAINT fk_asset_metrics_asset_id_assets FOREIGN KEY(asset_id)
                REFERENCES assets (id))""")
    if keyed:
        _sqlite_copy_keyed()
    else:
        _run("""
            INSERT INTO asset_metrics_new SELECT m.asset_id, m.name, m.value, a.kind,
                a.namespace
            FROM asset_metrics AS m JOIN assets AS a ON a.id = m.asset_id""")
    _run("DROP TABLE asset_metrics")  # and its indexes
    _run("ALTER TABLE asset_metrics_new RENAME TO asset_metrics")
    op.create_index("ix_asset_metrics_name_value_asset_id", "asset_metrics",
                    ["name", "value", "asset_id"])


def _sqlite_copy_keyed() -> None:
    """Each asset's key computed once (an asset has a few metric rows), the distinct keys
    numbered in key order, then every metric row copied with its key's id."""
    _run("CREATE TEMP TABLE facet_key_of (asset_id INTEGER PRIMARY KEY, key TEXT NOT NULL)")
    _run(f"""
        INSERT INTO facet_key_of SELECT a.id, {_key('a', postgresql=False)} FROM assets AS a
        WHERE a.id IN (SELECT asset_id FROM asset_metrics)""")
    _run("INSERT INTO facet_key_values (key) SELECT DISTINCT key FROM facet_key_of ORDER BY key")
    # the same expression as the triggers', so a set has one text
    _run("CREATE TEMP TABLE dataset_set_of (output_id INTEGER PRIMARY KEY, inputs TEXT)")
    _run(f"""
        INSERT INTO dataset_set_of SELECT o.output_id, {_sqlite_inputs('o.output_id')}
        FROM (SELECT DISTINCT output_id FROM run_inputs
            WHERE output_id IN (SELECT asset_id FROM asset_metrics)) AS o""")
    _run("""
        INSERT INTO dataset_key_values (inputs)
        SELECT DISTINCT inputs FROM dataset_set_of ORDER BY inputs""")
    _run("""
        INSERT INTO asset_metrics_new SELECT m.asset_id, m.name, m.value, a.kind,
            a.namespace, v.id, d.id
        FROM asset_metrics AS m JOIN assets AS a ON a.id = m.asset_id
        JOIN facet_key_of AS t ON t.asset_id = m.asset_id
        JOIN facet_key_values AS v ON v.key = t.key
        LEFT JOIN dataset_set_of AS s ON s.output_id = m.asset_id
        LEFT JOIN dataset_key_values AS d ON d.inputs = s.inputs""")
    _run("DROP TABLE facet_key_of")
    _run("DROP TABLE dataset_set_of")


def _sqlite_inputs(output: str) -> str:
    """The ids of the inputs of the runs that produced ``output``, sorted, as a JSON
    array: the text that names the set in ``dataset_key_values``."""
    return f"""(SELECT json_group_array(input_id) FROM (SELECT DISTINCT input_id
        FROM run_inputs WHERE output_id = {output} ORDER BY input_id))"""


def _sqlite_dataset_key(output: str) -> str:
    """The id of ``output``'s set of inputs; null when it has none."""
    return f"""(SELECT d.id FROM dataset_key_values AS d
        WHERE d.inputs = {_sqlite_inputs(output)})"""


def _sqlite_dataset_triggers() -> None:
    """A run input added or removed: its output's set is added to ``dataset_key_values``
    unless there (never the empty set), then the output's metric rows name it. Only for an
    output with metric rows (a model version): a dataset that a daily job writes has a
    set that grows with every run, and keeping a key for each of its sets would cost the
    square of its runs, for rows nothing reads (an asset that gets metrics later has its
    set looked up by the asset trigger then)."""
    for event, row in (("insert", "new"), ("delete", "old")):
        output = f"{row}.output_id"
        _run(f"""
            CREATE TRIGGER run_inputs_dataset_key_{event} AFTER {event.upper()} ON run_inputs
            WHEN EXISTS (SELECT 1 FROM asset_metrics AS m WHERE m.asset_id = {output})
            BEGIN
                INSERT INTO dataset_key_values (inputs) SELECT s.inputs
                FROM (SELECT {_sqlite_inputs(output)} AS inputs) AS s
                WHERE s.inputs <> '[]' AND NOT EXISTS (
                    SELECT 1 FROM dataset_key_values AS d WHERE d.inputs = s.inputs);
                UPDATE asset_metrics SET dataset_key = {_sqlite_dataset_key(output)}
                WHERE asset_id = {output};
            END""")


def _sqlite_triggers(*, keyed: bool) -> None:
    rows = """
        INSERT INTO asset_metrics (asset_id, name, value, kind, namespace)
        SELECT new.id, m.key, m.value, new.kind, new.namespace
        FROM json_each(new.meta, '$.metrics') AS m
        WHERE json_type(new.meta, '$.metrics') = 'object' AND m.type IN ('integer', 'real')
    """
    if keyed:
        rows = _sqlite_keyed_rows()
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


def _sqlite_keyed_rows() -> str:
    """The trigger's statements for the keyed rows: the asset's key added to
    ``facet_key_values`` unless there, then the metric rows with its id. NOT EXISTS rather
    than INSERT OR IGNORE: an outer statement's conflict clause would override the
    trigger's, and OR REPLACE would give a key a new id under rows that hold the old."""
    key = f"(SELECT {_key('new', postgresql=False)} AS key) AS k"
    # the asset's set of inputs too: the run_inputs triggers keep sets only for assets with
    # metric rows, and this may be the asset's first
    return f"""
        INSERT INTO facet_key_values (key) SELECT k.key FROM {key}
        WHERE json_type(new.meta, '$.metrics') = 'object'
            AND NOT EXISTS (SELECT 1 FROM facet_key_values AS v WHERE v.key = k.key);
        INSERT INTO dataset_key_values (inputs) SELECT s.inputs
        FROM (SELECT {_sqlite_inputs('new.id')} AS inputs) AS s
        WHERE json_type(new.meta, '$.metrics') = 'object' AND s.inputs <> '[]'
            AND NOT EXISTS (SELECT 1 FROM dataset_key_values AS d WHERE d.inputs = s.inputs);
        INSERT INTO asset_metrics (asset_id, name, value, kind, namespace, facet_key,
            dataset_key)
        SELECT new.id, m.key, m.value, new.kind, new.namespace, v.id,
            {_sqlite_dataset_key('new.id')}
        FROM {key} JOIN facet_key_values AS v ON v.key = k.key,
            json_each(new.meta, '$.metrics') AS m
        WHERE json_type(new.meta, '$.metrics') = 'object' AND m.type IN ('integer', 'real')
    """


# PostgreSQL -----------------------------------------------------------------------------
def _postgresql_upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name="asset_metrics")
    op.add_column("asset_metrics", sa.Column("facet_key", sa.Integer, nullable=True))
    op.add_column("asset_metrics", sa.Column("dataset_key", sa.Integer, nullable=True))
    key = _key("a", postgresql=True)
    _run(f"""
        INSERT INTO facet_key_values (key) SELECT DISTINCT {key} FROM assets AS a
        WHERE EXISTS (SELECT 1 FROM asset_metrics AS m WHERE m.asset_id = a.id) ORDER BY 1""")
    _run(f"""
        UPDATE asset_metrics SET facet_key = v.id FROM assets AS a, facet_key_values AS v
        WHERE a.id = asset_metrics.asset_id AND v.key = {key}""")
    op.alter_column("asset_metrics", "facet_key", nullable=False)
    _run(f"""
        INSERT INTO dataset_key_values (inputs) SELECT DISTINCT inputs FROM (
            SELECT {_postgresql_inputs('o.output_id')} AS inputs
            FROM (SELECT DISTINCT output_id FROM run_inputs
            WHERE output_id IN (SELECT asset_id FROM asset_metrics)) AS o) AS s ORDER BY inputs""")
    _run(f"UPDATE asset_metrics SET dataset_key = {_postgresql_dataset_key('asset_id')}")
    _postgresql_trigger(keyed=True)
    _postgresql_dataset_trigger()


def _postgresql_inputs(output: str) -> str:
    """As ``_sqlite_inputs`` (null for none)."""
    return f"""(SELECT CAST(json_agg(DISTINCT r.input_id ORDER BY r.input_id) AS TEXT)
        FROM run_inputs AS r WHERE r.output_id = {output})"""


def _postgresql_dataset_key(output: str) -> str:
    return f"""(SELECT d.id FROM dataset_key_values AS d
        WHERE d.inputs = {_postgresql_inputs(output)})"""


def _postgresql_dataset_trigger() -> None:
    """As ``_sqlite_dataset_triggers``. The output's metric rows are locked before its set
    is read: a concurrent change to the same output's inputs then waits, and (READ
    COMMITTED: a new snapshot per statement) the set read after the lock includes it."""
    _run(f"""
        CREATE FUNCTION modelatlas_run_inputs_dataset_key() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE out_id bigint; inputs_text text; set_id integer;
        BEGIN
            IF TG_OP = 'DELETE' THEN out_id := OLD.output_id;
            ELSE out_id := NEW.output_id; END IF;
            PERFORM 1 FROM asset_metrics AS m WHERE m.asset_id = out_id FOR UPDATE;
            IF NOT FOUND THEN RETURN NULL; END IF;  -- no metric rows: nothing names a set
            inputs_text := {_postgresql_inputs('out_id')};
            IF inputs_text IS NOT NULL THEN
                INSERT INTO dataset_key_values (inputs) VALUES (inputs_text)
                    ON CONFLICT (inputs) DO NOTHING;
                SELECT d.id INTO set_id FROM dataset_key_values AS d
                    WHERE d.inputs = inputs_text;
            END IF;
            UPDATE asset_metrics AS m SET dataset_key = set_id
                WHERE m.asset_id = out_id AND m.dataset_key IS DISTINCT FROM set_id;
            RETURN NULL;
        END $$""")
    _run("""
        CREATE TRIGGER run_inputs_dataset_key AFTER INSERT OR DELETE ON run_inputs
        FOR EACH ROW EXECUTE FUNCTION modelatlas_run_inputs_dataset_key()""")


def _postgresql_trigger(*, keyed: bool) -> None:
    # ON CONFLICT waits for a concurrent writer of the same new key, then the SELECT (a new
    # snapshot under READ COMMITTED) sees its row
    declare, lookup, column, key = "", "", ")", ""
    if keyed:
        declare = "DECLARE fkey_text text; fkey integer; inputs_text text;"
        # the asset's set of inputs too (as in _sqlite_keyed_rows)
        lookup = f"""
                fkey_text := {_key('NEW', postgresql=True)};
                INSERT INTO facet_key_values (key) VALUES (fkey_text)
                    ON CONFLICT (key) DO NOTHING;
                SELECT id INTO fkey FROM facet_key_values WHERE key = fkey_text;
                inputs_text := {_postgresql_inputs('NEW.id')};
                IF inputs_text IS NOT NULL THEN
                    INSERT INTO dataset_key_values (inputs) VALUES (inputs_text)
                        ON CONFLICT (inputs) DO NOTHING;
                END IF;"""
        column, key = ", facet_key, dataset_key)", f", fkey, {_postgresql_dataset_key('NEW.id')}"
    _run(f"""
        CREATE OR REPLACE FUNCTION modelatlas_asset_metrics() RETURNS trigger
        LANGUAGE plpgsql AS $$
        {declare}
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM asset_metrics WHERE asset_id = OLD.id;
            END IF;
            IF jsonb_typeof(NEW.meta -> 'metrics') = 'object' THEN{lookup}
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
