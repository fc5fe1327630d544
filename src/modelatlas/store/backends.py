"""Queries whose SQL differs by backend, behind one Protocol with one class per backend."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

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
    insert = staticmethod(sqlite.insert)

    def next_version(self, conn: Connection, kind: str, namespace: str, name: str) -> int:
        stmt = self.insert(version_counters).values(
            kind=kind, namespace=namespace, name=name, last=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["kind", "namespace", "name"],
            set_={"last": version_counters.c.last + 1},
        ).returning(version_counters.c.last)
        return int(conn.execute(stmt).scalar_one())


class SQLiteBackend(_UpsertCounter):
    insert = staticmethod(sqlite.insert)


class PostgreSQLBackend(_UpsertCounter):
    insert = staticmethod(postgresql.insert)  # type: ignore[assignment]


def backend_for(dialect: str) -> Backend:
    return PostgreSQLBackend() if dialect == "postgresql" else SQLiteBackend()
