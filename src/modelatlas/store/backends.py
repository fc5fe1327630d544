"""Queries whose SQL differs by backend, behind one Protocol with one class per backend."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import version_counters


class Backend(Protocol):
    """Backend-specific statements. Each runs inside the caller's write transaction."""

    def next_version(self, conn: Connection, kind: str, namespace: str, name: str) -> int:
        """Assign the next version number of a series, atomically.

        Invariant: concurrent callers get distinct, consecutive numbers, and a rolled-back
        transaction gives its number back (no gaps). Cost: one upsert. On PostgreSQL the
        upsert holds the counter row's lock until commit; on SQLite the writer already
        holds the database write lock (``BEGIN IMMEDIATE``).
        """
        ...


class _UpsertCounter:
    """Both backends speak ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``; only the
    SQLAlchemy construct differs. The statement is built once (it is on the hot path of
    every registration) with bound parameters."""

    def __init__(self, insert: Any) -> None:
        self._next = Prepared(
            insert(version_counters)
            .values(
                kind=sa.bindparam("kind"),
                namespace=sa.bindparam("namespace"),
                name=sa.bindparam("name"),
                last=1,
            )
            .on_conflict_do_update(
                index_elements=["kind", "namespace", "name"],
                set_={"last": version_counters.c.last + 1},
            )
            .returning(version_counters.c.last)
        )

    def next_version(self, conn: Connection, kind: str, namespace: str, name: str) -> int:
        params = {"kind": kind, "namespace": namespace, "name": name}
        return int(self._next.scalar(conn, params))


class SQLiteBackend(_UpsertCounter):
    def __init__(self) -> None:
        super().__init__(sqlite.insert)


class PostgreSQLBackend(_UpsertCounter):
    def __init__(self) -> None:
        super().__init__(postgresql.insert)


def backend_for(dialect: str) -> Backend:
    return PostgreSQLBackend() if dialect == "postgresql" else SQLiteBackend()
