"""relation history: when each relation existed, so lineage can be asked "as of" a time

Relations are deleted when removed, so the graph of a past moment is not in ``relations``.
``relation_history`` keeps one row per stretch of time an edge existed: ``added_at`` (the
relation's ``created_at``, the time of its ``relation.added`` event) and ``removed_at``
(NULL while it exists). A walk "as of T" is then the same recursive CTE over the rows with
``added_at <= T AND (removed_at IS NULL OR removed_at > T)``, through the same kind of
indexes as ``relations`` (by source and by target, each with the relation).

Kept by triggers on ``relations`` (SQLite triggers; a PostgreSQL trigger function), like
``run_inputs``, so every write path keeps it. A removal is stamped with the database clock
when the row is deleted, a few milliseconds after the time of its ``relation.removed``
event (the transaction's start); a moment inside that gap sees the edge still present.

Backfill: one open row per existing relation, and one closed row per stretch that the
event log records as added and later removed.

Revision ID: 0009
Revises: 0008
Classification: cautious (a new table backfilled from every relation and every
relation.added/removed event in the migration's transaction: time grows with the registry
and writes wait until it is done)
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from modelatlas.errors import ModelAtlasError
from modelatlas.refs import Ref

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The same text format as every stored time (``2026-11-26T09:30:00.123456Z``).
_SQLITE_NOW = "strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'"
_PG_NOW = """to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "relation_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("source_id", BigId, nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("target_id", BigId, nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.Column("removed_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation_history")),
    )
    op.create_index("ix_relation_history_source_id_relation_added_at", "relation_history",
                    ["source_id", "relation", "added_at"])
    op.create_index("ix_relation_history_target_id_relation_added_at", "relation_history",
                    ["target_id", "relation", "added_at"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()
    _run("""INSERT INTO relation_history (source_id, relation, target_id, added_at)
            SELECT source_id, relation, target_id, created_at FROM relations""")
    _backfill_removed()


def _sqlite() -> None:
    _run("""
        CREATE TRIGGER relations_history_insert AFTER INSERT ON relations BEGIN
            INSERT INTO relation_history (source_id, relation, target_id, added_at)
            VALUES (new.source_id, new.relation, new.target_id, new.created_at);
        END""")
    _run(f"""
        CREATE TRIGGER relations_history_delete AFTER DELETE ON relations BEGIN
            UPDATE relation_history SET removed_at = {_SQLITE_NOW}
            WHERE source_id = old.source_id AND relation = old.relation
              AND target_id = old.target_id AND removed_at IS NULL;
        END""")


def _postgresql() -> None:
    _run(f"""
        CREATE FUNCTION modelatlas_relation_history() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                UPDATE relation_history SET removed_at = {_PG_NOW}
                WHERE source_id = OLD.source_id AND relation = OLD.relation
                  AND target_id = OLD.target_id AND removed_at IS NULL;
            ELSE
                INSERT INTO relation_history (source_id, relation, target_id, added_at)
                VALUES (NEW.source_id, NEW.relation, NEW.target_id, NEW.created_at);
            END IF;
            RETURN NULL;
        END $$""")
    _run("""
        CREATE TRIGGER relations_history_insert AFTER INSERT ON relations
        FOR EACH ROW EXECUTE FUNCTION modelatlas_relation_history()""")
    _run("""
        CREATE TRIGGER relations_history_delete AFTER DELETE ON relations
        FOR EACH ROW EXECUTE FUNCTION modelatlas_relation_history()""")


def _backfill_removed() -> None:
    """The stretches the event log records as added and then removed (their rows are gone
    from ``relations``), replayed in sequence order."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT action, time, payload FROM events "
        "WHERE action IN ('relation.added', 'relation.removed') ORDER BY seq"
    )).yield_per(1000)
    opened: dict[tuple[str, str, str], str] = {}
    closed: list[tuple[str, str, str, str, str]] = []
    for action, time, payload in rows:
        body = json.loads(payload)
        key = (str(body.get("source")), str(body.get("relation")), str(body.get("target")))
        if action == "relation.added":
            opened[key] = time
        elif key in opened:
            closed.append((*key, opened.pop(key), time))
    ids: dict[str, int | None] = {}
    values = []
    for source, relation, target, added_at, removed_at in closed:
        source_id, target_id = _asset_id(conn, source, ids), _asset_id(conn, target, ids)
        if source_id is not None and target_id is not None:
            values.append({"s": source_id, "r": relation, "t": target_id,
                           "a": added_at, "d": removed_at})
    if values:
        conn.execute(sa.text(
            "INSERT INTO relation_history (source_id, relation, target_id, added_at, removed_at)"
            " VALUES (:s, :r, :t, :a, :d)"), values)


def _asset_id(conn: Any, text: str, cache: dict[str, int | None]) -> int | None:
    if text not in cache:
        try:
            ref = Ref.parse(text)
        except ModelAtlasError:
            cache[text] = None
            return None
        cache[text] = conn.execute(sa.text(
            "SELECT id FROM assets WHERE kind = :k AND namespace = :n AND name = :m "
            "AND version = :v"), {"k": ref.kind, "n": ref.namespace, "m": ref.name,
                                  "v": ref.version or ""}).scalar()
    return cache[text]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER relations_history_insert ON relations")
        _run("DROP TRIGGER relations_history_delete ON relations")
        _run("DROP FUNCTION modelatlas_relation_history()")
    else:
        _run("DROP TRIGGER relations_history_insert")
        _run("DROP TRIGGER relations_history_delete")
    op.drop_index("ix_relation_history_target_id_relation_added_at",
                  table_name="relation_history")
    op.drop_index("ix_relation_history_source_id_relation_added_at",
                  table_name="relation_history")
    op.drop_table("relation_history")
