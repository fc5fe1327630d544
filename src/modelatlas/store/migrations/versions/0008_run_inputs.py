"""run inputs: "output was produced by a run that used input", kept by the database

``trained_on:dataset:x@3`` asked, per page, for every run that used the dataset and every
version those runs produced (two edge joins per hit, ~1,000 hits per dataset version at 1M
versions) and sorted them. With one row per (input, output, run), the versions trained on
an input are a range of the (input_id, output_id) index, read in id order up to the page.

Kept by triggers on ``relations`` (SQLite triggers; a PostgreSQL trigger function), like
the full-text and metrics indexes, so every write path keeps it: the service, the bulk
loader, raw SQL; removing a ``used`` or ``produced`` edge removes its rows.

Revision ID: 0008
Revises: 0007
Classification: cautious (a new table backfilled from every used/produced edge pair in
the migration's transaction: time grows with the registry and writes wait until it is done)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_PAIRS = """
    SELECT u.target_id, p.target_id, u.source_id FROM relations AS u
    JOIN relations AS p ON p.source_id = u.source_id AND p.relation = 'produced'
    WHERE u.relation = 'used'
"""


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "run_inputs",
        sa.Column("input_id", BigId, nullable=False),
        sa.Column("output_id", BigId, nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("input_id", "output_id", "run_id", name=op.f("pk_run_inputs")),
    )
    op.create_index("ix_run_inputs_output_id_input_id", "run_inputs", ["output_id", "input_id"])
    op.create_index("ix_run_inputs_run_id", "run_inputs", ["run_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()
    _run(f"INSERT INTO run_inputs (input_id, output_id, run_id) {_PAIRS}")


def _sqlite() -> None:
    _run("""
        CREATE TRIGGER relations_run_inputs_insert AFTER INSERT ON relations
        WHEN new.relation IN ('used', 'produced') BEGIN
            INSERT OR IGNORE INTO run_inputs (input_id, output_id, run_id)
            SELECT new.target_id, p.target_id, new.source_id FROM relations AS p
            WHERE new.relation = 'used' AND p.source_id = new.source_id
              AND p.relation = 'produced'
            UNION ALL
            SELECT u.target_id, new.target_id, new.source_id FROM relations AS u
            WHERE new.relation = 'produced' AND u.source_id = new.source_id
              AND u.relation = 'used';
        END""")
    _run("""
        CREATE TRIGGER relations_run_inputs_delete AFTER DELETE ON relations
        WHEN old.relation IN ('used', 'produced') BEGIN
            DELETE FROM run_inputs WHERE run_id = old.source_id AND (
                (old.relation = 'used' AND input_id = old.target_id)
                OR (old.relation = 'produced' AND output_id = old.target_id));
        END""")


def _postgresql() -> None:
    _run("""
        CREATE FUNCTION modelatlas_run_inputs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM run_inputs WHERE run_id = OLD.source_id AND (
                    (OLD.relation = 'used' AND input_id = OLD.target_id)
                    OR (OLD.relation = 'produced' AND output_id = OLD.target_id));
                RETURN NULL;
            END IF;
            IF NEW.relation = 'used' THEN
                INSERT INTO run_inputs (input_id, output_id, run_id)
                SELECT NEW.target_id, p.target_id, NEW.source_id FROM relations AS p
                WHERE p.source_id = NEW.source_id AND p.relation = 'produced'
                ON CONFLICT DO NOTHING;
            ELSIF NEW.relation = 'produced' THEN
                INSERT INTO run_inputs (input_id, output_id, run_id)
                SELECT u.target_id, NEW.target_id, NEW.source_id FROM relations AS u
                WHERE u.source_id = NEW.source_id AND u.relation = 'used'
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$""")
    _run("""
        CREATE TRIGGER relations_run_inputs_insert AFTER INSERT ON relations
        FOR EACH ROW WHEN (NEW.relation IN ('used', 'produced'))
        EXECUTE FUNCTION modelatlas_run_inputs()""")
    _run("""
        CREATE TRIGGER relations_run_inputs_delete AFTER DELETE ON relations
        FOR EACH ROW WHEN (OLD.relation IN ('used', 'produced'))
        EXECUTE FUNCTION modelatlas_run_inputs()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER relations_run_inputs_insert ON relations")
        _run("DROP TRIGGER relations_run_inputs_delete ON relations")
        _run("DROP FUNCTION modelatlas_run_inputs()")
    else:
        _run("DROP TRIGGER relations_run_inputs_insert")
        _run("DROP TRIGGER relations_run_inputs_delete")
    op.drop_index("ix_run_inputs_run_id", table_name="run_inputs")
    op.drop_index("ix_run_inputs_output_id_input_id", table_name="run_inputs")
    op.drop_table("run_inputs")
