"""What an operator with write access to the database can do to the audit log, for the
tamper and client-trust tests: rewrite old events, rebuild the whole tree from them and sign a fresh
checkpoint with the log's own key, so that every check the server can make passes (a
module of its own, not conftest, so test files import it by a unique name)."""

from __future__ import annotations

import sqlalchemy as sa

from modelatlas.integrity import log
from modelatlas.integrity.merkle import EMPTY_ROOT
from modelatlas.registry import Registry


def tamper(registry: Registry, *statements: str, **params: int) -> None:
    """What an attacker with write access to the database does: switch the append-only
    trigger off, run ``statements`` on the tables, switch it back on."""
    with registry.db.writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_delete")
        for statement in statements:
            conn.execute(sa.text(statement), params)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER USER")


def rewrite_and_resign(registry: Registry, *statements: str, **params: int) -> None:
    """:func:`tamper` with ``statements``, then rebuild the tree tables from the rewritten
    events, drop every signed head and sign a new one."""
    tamper(registry, *statements, **params)
    with registry.db.writer.begin() as conn:
        for table in ("audit_checkpoints", "merkle_nodes", "audit_leaves"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        conn.execute(sa.text("UPDATE audit_tree SET size = 0, last_seq = 0, root = :r"),
                     {"r": EMPTY_ROOT})
        log.extend(conn)
    registry.audit_checkpoint()
    registry.audit_verify()  # the forgery passes every server-side check
