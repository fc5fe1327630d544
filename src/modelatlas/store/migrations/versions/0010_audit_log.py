"""audit log: the events as leaves of an RFC 6962 Merkle tree, and signed checkpoints

``audit_tree`` is one row (``id = 1``): the tree's size, the last event sequence number it
covers, its root and a random ``log_id`` (the default checkpoint origin names it). Writers
lock it (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer already) before
appending events, so leaves are appended in sequence order.
``audit_leaves`` maps leaf index <-> event seq (PostgreSQL sequences may skip numbers) and
holds the leaf hash; ``merkle_nodes`` holds the root of every complete (perfect) subtree
above the leaves, at ``(level, idx)`` covering leaves ``[idx * 2**level, (idx+1) * 2**level)``.
``audit_checkpoints`` stores the signed tree heads (C2SP signed notes).

Events can no longer be changed or removed: a trigger refuses UPDATE and DELETE on
``events`` (both backends).

Backfill: every existing event becomes a leaf, in sequence order. The leaf format (v1) is
transcribed here rather than imported, so this migration keeps meaning what it meant when
it shipped; ``modelatlas.integrity.leaf`` is the living copy and tests check both agree.

Revision ID: 0010
Revises: 0009
Classification: cautious (one pass over every event in the migration's transaction:
time grows with the log, about a second per few hundred thousand events)
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Hash = sa.LargeBinary(32)

_REFUSE = "events are append-only: the audit log refuses UPDATE and DELETE"


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "audit_tree",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("root", Hash, nullable=False),
        sa.Column("log_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree")),
    )
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_index", BigId, autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_audit_leaves")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_leaves_seq")),
    )
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("hash", Hash, nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_merkle_nodes")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", BigId, autoincrement=False, nullable=False),
        sa.Column("root", Hash, nullable=False),
        sa.Column("signed_note", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        _run(f"""
            CREATE FUNCTION modelatlas_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_REFUSE}' USING ERRCODE = 'insufficient_privilege';
            END $$""")
        _run("""
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION modelatlas_events_append_only()""")
        _run("""
            CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION modelatlas_events_append_only()""")
    else:
        _run(f"""CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                 BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""")
        _run(f"""CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                 BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""")


def _leaf_hash(row: Any) -> bytes:
    """Leaf format v1 (docs/audit.md): RFC 8785 JSON of string/integer fields, which for
    ASCII keys in sorted order is exactly what orjson writes."""
    body = orjson.dumps({
        "action": row.action, "actor": row.actor, "outcome": "ok",
        "payload_sha256": row.payload_sha256, "seq": int(row.seq), "target": row.ref,
        "time": row.time, "v": 1,
    })
    return hashlib.sha256(b"\x00" + body).digest()


def _backfill() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT seq, time, actor, action, ref, payload_sha256 FROM events ORDER BY seq"
    )).yield_per(5000)
    border: list[tuple[int, int, bytes]] = []  # (level, idx, hash) of the right edge
    leaves: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    size, last_seq = 0, 0
    for row in rows:
        leaf = _leaf_hash(row)
        leaves.append({"i": size, "s": int(row.seq), "h": leaf})
        level, idx, node = 0, size, leaf
        while border and border[-1][0] == level:
            _, _, left = border.pop()
            level, idx = level + 1, idx // 2
            node = hashlib.sha256(b"\x01" + left + node).digest()
            nodes.append({"l": level, "i": idx, "h": node})
        border.append((level, idx, node))
        size, last_seq = size + 1, int(row.seq)
        if len(leaves) >= 5000:
            _write(conn, leaves, nodes)
    _write(conn, leaves, nodes)
    root = hashlib.sha256(b"").digest()
    if border:
        root = border[-1][2]
        for _, _, left in reversed(border[:-1]):
            root = hashlib.sha256(b"\x01" + left + root).digest()
    # log_id names this log in the default checkpoint origin (modelatlas.local/<log_id>)
    conn.execute(sa.text("INSERT INTO audit_tree (id, size, last_seq, root, log_id) "
                         "VALUES (1, :n, :s, :r, :l)"),
                 {"n": size, "s": last_seq, "r": root, "l": secrets.token_hex(8)})


def _write(conn: Any, leaves: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> None:
    if leaves:
        conn.execute(sa.text("INSERT INTO audit_leaves (leaf_index, seq, hash) "
                             "VALUES (:i, :s, :h)"), leaves)
    if nodes:
        conn.execute(sa.text("INSERT INTO merkle_nodes (level, idx, hash) "
                             "VALUES (:l, :i, :h)"), nodes)
    leaves.clear()
    nodes.clear()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER events_append_only ON events")
        _run("DROP TRIGGER events_no_truncate ON events")
        _run("DROP FUNCTION modelatlas_events_append_only()")
    else:
        _run("DROP TRIGGER events_no_update")
        _run("DROP TRIGGER events_no_delete")
    for table in ("audit_checkpoints", "merkle_nodes", "audit_leaves", "audit_tree"):
        op.drop_table(table)
