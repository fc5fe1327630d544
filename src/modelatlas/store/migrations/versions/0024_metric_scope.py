"""metric scope: ``asset_metrics`` carries its asset's kind and namespace

``kind:model_version namespace:team-0 metrics.auc>=0.9`` walked every version of the team
(50,000 at 1M versions) through ``assets (namespace, kind, id)`` and probed the metric of
each, about 2 us a probe, to keep the 9,608 that pass: ~100 ms before a facet was counted.
With the asset's kind and namespace beside each metric, the index
``(name, kind, namespace, value, asset_id)`` holds exactly those hits as one range
(<1 ms). A model's kind and namespace are part of its identity and never change, but the
triggers follow an UPDATE of either anyway, so no write path can leave them stale.

Revision ID: 0024
Revises: 0023
Classification: cautious (asset_metrics is rebuilt from every metric row in the
migration's transaction: time grows with the registry, ~1-2 min at 1M model versions,
and writes wait until it is done)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

SCOPE_INDEX = "ix_asset_metrics_name_kind_namespace_value_asset_id"


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_columns()
        _postgresql_trigger(scoped=True)
    else:
        _sqlite_drop_triggers()
        _sqlite_rebuild(scoped=True)
        _sqlite_triggers(scoped=True)
    op.create_index(SCOPE_INDEX, "asset_metrics", ["name", "kind", "namespace", "value",
                                                   "asset_id"])


def downgrade() -> None:
    op.drop_index(SCOPE_INDEX, table_name="asset_metrics")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_trigger(scoped=False)
        op.drop_column("asset_metrics", "namespace")
        op.drop_column("asset_metrics", "kind")
    else:
        _sqlite_drop_triggers()
        _sqlite_rebuild(scoped=False)
        _sqlite_triggers(scoped=False)


# SQLite ---------------------------------------------------------------------------------
def _sqlite_drop_triggers() -> None:
    _run("DROP TRIGGER assets_metrics_insert")
    _run("DROP TRIGGER assets_metrics_update")


def _sqlite_rebuild(*, scoped: bool) -> None:
    """SQLite adds a NOT NULL column only with a default: the table is copied once into
    its new shape instead (one pass, rather than ADD COLUMN then UPDATE every row)."""
    scope = ", kind VARCHAR(32) NOT NULL, namespace VARCHAR(64) NOT NULL" if scoped else ""
    _run(f"""
        CREATE TABLE asset_metrics_new (
            asset_id INTEGER NOT NULL, name TEXT NOT NULL, value FLOAT NOT NULL{scope},
            CONSTRAINT pk_asset_metrics PRIMARY KEY (asset_id, name),
            CONSTRAINT fk_asset_metrics_asset_id_assets FOREIGN KEY(asset_id)
                REFERENCES assets (id))""")
    columns = "m.asset_id, m.name, m.value" + (", a.kind, a.namespace" if scoped else "")
    _run(f"""
        INSERT INTO asset_metrics_new SELECT {columns}
        FROM asset_metrics AS m JOIN assets AS a ON a.id = m.asset_id""")
    _run("DROP TABLE asset_metrics")  # and its indexes
    _run("ALTER TABLE asset_metrics_new RENAME TO asset_metrics")
    op.create_index("ix_asset_metrics_name_value_asset_id", "asset_metrics",
                    ["name", "value", "asset_id"])


def _sqlite_rows(*, scoped: bool) -> str:
    """(asset_id, name, value[, kind, namespace]) of the numeric metrics of ``new``."""
    scope = ", new.kind, new.namespace" if scoped else ""
    return f"""
        SELECT new.id, m.key, m.value{scope} FROM json_each(new.meta, '$.metrics') AS m
        WHERE json_type(new.meta, '$.metrics') = 'object' AND m.type IN ('integer', 'real')
    """


def _sqlite_triggers(*, scoped: bool) -> None:
    insert = "INSERT INTO asset_metrics (asset_id, name, value" + (
        ", kind, namespace)" if scoped else ")")
    columns = "meta, kind, namespace" if scoped else "meta"
    _run(f"""
        CREATE TRIGGER assets_metrics_insert AFTER INSERT ON assets BEGIN
            {insert} {_sqlite_rows(scoped=scoped)};
        END""")
    _run(f"""
        CREATE TRIGGER assets_metrics_update AFTER UPDATE OF {columns} ON assets BEGIN
            DELETE FROM asset_metrics WHERE asset_id = old.id;
            {insert} {_sqlite_rows(scoped=scoped)};
        END""")


# PostgreSQL -----------------------------------------------------------------------------
def _postgresql_columns() -> None:
    op.add_column("asset_metrics", sa.Column("kind", sa.String(32), nullable=True))
    op.add_column("asset_metrics", sa.Column("namespace", sa.String(64), nullable=True))
    _run("""
        UPDATE asset_metrics SET kind = a.kind, namespace = a.namespace
        FROM assets AS a WHERE a.id = asset_metrics.asset_id""")
    op.alter_column("asset_metrics", "kind", nullable=False)
    op.alter_column("asset_metrics", "namespace", nullable=False)


def _postgresql_trigger(*, scoped: bool) -> None:
    insert = "INSERT INTO asset_metrics (asset_id, name, value" + (
        ", kind, namespace)" if scoped else ")")
    scope = ", NEW.kind, NEW.namespace" if scoped else ""
    _run(f"""
        CREATE OR REPLACE FUNCTION modelatlas_asset_metrics() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM asset_metrics WHERE asset_id = OLD.id;
            END IF;
            IF jsonb_typeof(NEW.meta -> 'metrics') = 'object' THEN
                {insert}
                SELECT NEW.id, m.key, (m.value #>> '{{}}')::double precision{scope}
                FROM jsonb_each(NEW.meta -> 'metrics') AS m
                WHERE jsonb_typeof(m.value) = 'number';
            END IF;
            RETURN NULL;
        END $$""")
    columns = "meta, kind, namespace" if scoped else "meta"
    _run("DROP TRIGGER assets_metrics ON assets")
    _run(f"""
        CREATE TRIGGER assets_metrics AFTER INSERT OR UPDATE OF {columns} ON assets
        FOR EACH ROW EXECUTE FUNCTION modelatlas_asset_metrics()""")
