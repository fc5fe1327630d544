"""SQLite's walk by levels: one depth per statement, into a temporary table.

A recursive CTE cannot count its own rows, so it cannot stop at the first depth that
brings "enough" assets, and it reaches an asset once per depth it is found at, to be
grouped afterwards. Walked one depth per statement, each asset is written once, at its
fewest hops (``INSERT OR IGNORE`` on the id, depths added in order), and the caller learns
after each depth how many there are. It still runs in the database: Python sees only how
many assets each depth added. The table, ``walk_seen``, is in the connection's own
temporary schema (in memory, store/engine.py), and is emptied after each walk.

PostgreSQL keeps the recursive walk (:mod:`._cte`), which it computes only as far as it is
read; the walk by levels was measured on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import Way, steps
from modelatlas.store.prepared import Prepared

# (id, depth) of the root (depth 0) and every asset reached; ordered by (depth, id) by its
# index, so the nearest are read without a sort
SEEN = "temp.walk_seen"

_CREATE = Prepared(sa.text("CREATE TEMP TABLE IF NOT EXISTS walk_seen"
                           " (id INTEGER PRIMARY KEY, depth INTEGER NOT NULL)"))
_BY_DEPTH = Prepared(sa.text(
    "CREATE INDEX IF NOT EXISTS temp.walk_seen_depth ON walk_seen (depth, id)"))
_EMPTY = Prepared(sa.text(f"DELETE FROM {SEEN}"))
_SEED = Prepared(sa.text(f"INSERT INTO {SEEN} (id, depth) VALUES (:root, 0)"))


@lru_cache(maxsize=64)
def _level(way: Way, relations: tuple[str, ...]) -> Prepared:
    """Adds the assets one hop beyond depth ``:near`` that are not there yet."""
    return Prepared(sa.text(f"INSERT OR IGNORE INTO {SEEN} (id, depth) " + " UNION ALL ".join(
        f"SELECT r.{hop.next}, :near + 1 FROM {SEEN} AS s JOIN relations AS r"
        f" ON r.{hop.match} = s.id WHERE s.depth = :near AND r.relation {hop.predicate}"
        for hop in steps(way, relations))))


@contextmanager
def walked(conn: Connection, root_id: int, *, way: Way, relations: tuple[str, ...],
           depth: int, enough: int | None = None) -> Iterator[int]:
    """``walk_seen`` holding the root and every asset within ``depth`` hops ``way``
    following ``relations`` (empty: all), each at its fewest hops; with ``enough``, only
    the depths up to the first that brings that many. Yields how many it holds besides the
    root; empty again afterwards. One walk at a time per connection: the table is the
    connection's, and a walk empties it first."""
    level = _level(way, relations)
    for statement in (_CREATE, _BY_DEPTH, _EMPTY):
        statement.changed(conn, {})
    _SEED.changed(conn, {"root": root_id})
    try:
        reached = 0
        for near in range(depth):
            added = level.changed(conn, {"near": near})
            reached += added
            if added == 0 or (enough is not None and reached >= enough):
                break
        yield reached
    finally:
        _EMPTY.changed(conn, {})
