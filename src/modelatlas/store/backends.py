"""Statements whose SQL differs by backend, behind one Protocol with one class per backend.

Both backends speak ``INSERT ... ON CONFLICT ... RETURNING``; only the SQLAlchemy
construct differs, so most statements are shared and built once per backend. What truly
differs (reserving ids for a bulk load) is written per backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import assets, relations, version_counters


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

    def advance_counters(
        self, conn: Connection, highest: Mapping[tuple[str, str, str], int]
    ) -> None:
        """Move series counters up to the given numbers, never down (bulk loads)."""
        ...

    def insert_asset(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        """Insert one asset row; its id, or None when the ref exists already. One round
        trip, and on PostgreSQL a duplicate does not abort the transaction."""
        ...

    def insert_relation(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        """Insert one edge; its id, or None when the same edge exists already."""
        ...

    def reserve_asset_ids(self, conn: Connection, count: int) -> list[int]:
        """``count`` ids for new assets, so a bulk load inserts with ``executemany`` and
        names them in relations without ``RETURNING``."""
        ...


class _Shared:
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
        upsert = insert(version_counters)
        self._advance = Prepared(
            upsert.on_conflict_do_update(
                index_elements=["kind", "namespace", "name"],
                set_={"last": sa.case((upsert.excluded.last > version_counters.c.last,
                                       upsert.excluded.last), else_=version_counters.c.last)},
            )
        )
        self._insert_asset = Prepared(
            insert(assets)
            .on_conflict_do_nothing(index_elements=["kind", "namespace", "name", "version"])
            .returning(assets.c.id)
        )
        self._insert_relation = Prepared(
            insert(relations)
            .on_conflict_do_nothing(index_elements=["source_id", "relation", "target_id"])
            .returning(relations.c.id)
        )

    def next_version(self, conn: Connection, kind: str, namespace: str, name: str) -> int:
        params = {"kind": kind, "namespace": namespace, "name": name}
        return int(self._next.scalar(conn, params))

    def advance_counters(
        self, conn: Connection, highest: Mapping[tuple[str, str, str], int]
    ) -> None:
        self._advance.executemany(conn, [
            {"kind": kind, "namespace": namespace, "name": name, "last": last}
            for (kind, namespace, name), last in sorted(highest.items())
        ])

    def insert_asset(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        inserted = self._insert_asset.scalar(conn, values)
        return None if inserted is None else int(inserted)

    def insert_relation(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        inserted = self._insert_relation.scalar(conn, values)
        return None if inserted is None else int(inserted)


class SQLiteBackend(_Shared):
    def __init__(self) -> None:
        super().__init__(sqlite.insert)
        self._max_id = Prepared(sa.select(sa.func.coalesce(sa.func.max(assets.c.id), 0)))

    def reserve_asset_ids(self, conn: Connection, count: int) -> list[int]:
        # the writer holds the database lock (BEGIN IMMEDIATE): ids past the largest are free
        start = int(self._max_id.scalar(conn, {}))
        return list(range(start + 1, start + 1 + count))


class PostgreSQLBackend(_Shared):
    def __init__(self) -> None:
        super().__init__(postgresql.insert)
        self._ids = sa.text(
            "SELECT nextval(pg_get_serial_sequence('assets', 'id')) FROM generate_series(1, :n)"
        )

    def reserve_asset_ids(self, conn: Connection, count: int) -> list[int]:
        # from the column's own sequence, as a default would take them
        return [int(v) for v in conn.execute(self._ids, {"n": count}).scalars()]


_BACKENDS: dict[str, Backend] = {}


def backend_for(dialect: str) -> Backend:
    """The (shared, stateless) backend of a dialect."""
    if dialect not in _BACKENDS:
        _BACKENDS[dialect] = PostgreSQLBackend() if dialect == "postgresql" else SQLiteBackend()
    return _BACKENDS[dialect]


def upsert_insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT for ``table``, which has ``on_conflict_do_update`` (the same
    SQL on SQLite and PostgreSQL): for an upsert in one statement."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
