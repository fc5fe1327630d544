"""Engines and transactions for SQLite (embedded) and PostgreSQL (shared).

SQLite: WAL, ``synchronous=FULL`` (a commit is on disk before it is acknowledged),
foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every write transaction so
writers from several processes queue for the one write lock instead of failing half-way
with ``SQLITE_BUSY`` on upgrade. Reads use a separate engine with deferred ``BEGIN``
so they never take the write lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 128 * 1024


def json_text(value: Any) -> str:
    """A JSON column's value as text. SQLAlchemy's default, ``json.dumps``, was about a
    third of the Python time of inserting assets and relations (every row has five JSON
    columns); orjson writes the same values compactly, and non-string keys as json.dumps
    does. Values reach here validated (jsonsafe: no NaN, integers within 2^53)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_engine(url: str, *, begin: str) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_pre_ping=False,
        # a page of hits decodes five JSON columns per row: orjson does it 4x faster
        json_deserializer=orjson.loads,
        json_serializer=json_text,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # SQLite's default page cache is 2 MiB; index pages of a registry with 100k+
        # versions then fall out of it on every write. The cap is per connection.
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        # temporary tables and indexes in memory: a lineage walk writes the assets it
        # reaches to one (lineage/_levels.py), and in a file each walk waited on its writes
        # (a 21-node walk at 100k assets: 1.4 ms by the clock for 0.65 ms of CPU)
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # straight to the driver: every transaction starts here, and SQLAlchemy's own
        # execution path costs ten times the statement
        conn.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]

    return engine


class Database:
    """The registry's database: a write path and a read path over one URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            database = self.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
            self.reader = _sqlite_engine(url, begin="BEGIN")
        elif self.dialect == "postgresql":
            self.writer = sa.create_engine(url, pool_size=10, max_overflow=20,
                                           json_deserializer=orjson.loads,
                                           json_serializer=json_text)
            self.reader = self.writer
        else:
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with self.writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read snapshot."""
        with self.reader.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
