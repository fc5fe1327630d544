"""metrics: every numeric ``meta.metrics.*`` value in an indexed side table

``metrics.auc>=0.9`` and ``sort=-metrics.auc`` read a range of (name, value) instead of
decoding the metadata of every candidate asset. The table is maintained by the database
(SQLite triggers; a PostgreSQL trigger function), like the full-text index, so every write
path keeps it: the service, the bulk loader, raw SQL. Only JSON numbers count (booleans
and strings are not metrics), as :mod:`modelatlas.search.dialects` reads them.

Revision ID: 0007
Revises: 0006
Classification: cautious (a new table, backfilled from every asset in the migration's
transaction: time grows with the registry and writes wait until it is done)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "asset_metrics",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_asset_metrics_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", "name", name=op.f("pk_asset_metrics")),
    )
    op.create_index("ix_asset_metrics_name_value_asset_id", "asset_metrics",
                    ["name", "value", "asset_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _sqlite_rows(row: str, source: str = "") -> str:
    """(asset_id, name, value) of the numeric metrics of ``row`` (``new`` in a trigger)."""
    return f"""
        SELECT {row}.id, m.key, m.value FROM {source}json_each({row}.meta, '$.metrics') AS m
        WHERE json_type({row}.meta, '$.metrics') = 'object' AND m.type IN ('integer', 'real')
    """


def _sqlite() -> None:
    insert = "INSERT INTO asset_metrics (asset_id, name, value)"
    _run(f"""
        CREATE TRIGGER assets_metrics_insert AFTER INSERT ON assets BEGIN
            {insert} {_sqlite_rows("new")};
        END""")
    _run(f"""
        CREATE TRIGGER assets_metrics_update AFTER UPDATE OF meta ON assets BEGIN
            DELETE FROM asset_metrics WHERE asset_id = old.id;
            {insert} {_sqlite_rows("new")};
        END""")
    _run(f"{insert} {_sqlite_rows('a', source='assets AS a, ')}")


def _postgresql() -> None:
    _run("""
        CREATE FUNCTION modelatlas_asset_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM asset_metrics WHERE asset_id = OLD.id;
            END IF;
            IF jsonb_typeof(NEW.meta -> 'metrics') = 'object' THEN
                INSERT INTO asset_metrics (asset_id, name, value)
                SELECT NEW.id, m.key, (m.value #>> '{}')::double precision
                FROM jsonb_each(NEW.meta -> 'metrics') AS m
                WHERE jsonb_typeof(m.value) = 'number';
            END IF;
            RETURN NULL;
        END $$""")
    _run("""
        CREATE TRIGGER assets_metrics AFTER INSERT OR UPDATE OF meta ON assets
        FOR EACH ROW EXECUTE FUNCTION modelatlas_asset_metrics()""")
    _run("""
        INSERT INTO asset_metrics (asset_id, name, value)
        SELECT a.id, m.key, (m.value #>> '{}')::double precision
        FROM assets AS a, jsonb_each(a.meta -> 'metrics') AS m
        WHERE jsonb_typeof(a.meta -> 'metrics') = 'object' AND jsonb_typeof(m.value) = 'number'
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER assets_metrics ON assets")
        _run("DROP FUNCTION modelatlas_asset_metrics()")
    else:
        _run("DROP TRIGGER assets_metrics_insert")
        _run("DROP TRIGGER assets_metrics_update")
    op.drop_index("ix_asset_metrics_name_value_asset_id", table_name="asset_metrics")
    op.drop_table("asset_metrics")
