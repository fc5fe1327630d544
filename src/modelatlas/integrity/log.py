"""The audit log's tree in SQL: appending leaves in the writer's transaction, reading nodes
for proofs, and storing signed checkpoints.

Invariant: the tree covers exactly the committed events, in sequence order. Writers call
:func:`lock` before inserting events and :func:`extend` after, in the same transaction. On
PostgreSQL the lock is ``SELECT ... FOR UPDATE`` on the head row, held to commit, so event
sequence numbers are allocated in commit order and no two writers extend the tree at once;
SQLite has one writer already (``BEGIN IMMEDIATE``), so the lock there is free. Transactions
that write no events never take it, and the lock is held only from the first event insert
to the commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from modelatlas.bounded import Bounded
from modelatlas.integrity.leaf import SQLITE_LEAF_DATA, event_leaf_hash
from modelatlas.integrity.merkle import CompactRange, NodeKey
from modelatlas.store.prepared import Prepared, multi_row_inserts
from modelatlas.store.tables import audit_checkpoints


@dataclass(frozen=True)
class TreeHead:
    size: int
    last_seq: int
    root: bytes
    log_id: str


# The write path and proofs run these on the driver's cursor (store.prepared): through
# SQLAlchemy's execute (expressions rebuilt and compiled per call) a one-event append cost
# about 3 ms of CPU; on the cursor it costs a few hundred microseconds on a loaded machine
# (bench/results/README.md). Written once, compiled once per dialect.
_HEAD = Prepared(sa.text("SELECT size, last_seq, root, log_id FROM audit_tree WHERE id = 1"))
_HEAD_FOR_UPDATE = Prepared(sa.text(
    "SELECT size, last_seq, root, log_id FROM audit_tree WHERE id = 1 FOR UPDATE"))
_NEW_EVENTS = Prepared(sa.text(
    "SELECT seq, time, actor, action, ref, payload_sha256 FROM events "
    "WHERE seq > :last ORDER BY seq"))
_SQLITE_LEAVES = "INSERT INTO audit_leaves (leaf_index, seq, hash)"
_SQLITE_NODES = "INSERT INTO merkle_nodes (level, idx, hash)"
_SET_HEAD = Prepared(sa.text(
    "UPDATE audit_tree SET size = :n, last_seq = :s, root = :r WHERE id = 1"))


def _head(row: Any) -> TreeHead:
    return TreeHead(int(row[0]), int(row[1]), bytes(row[2]), row[3])


def head(conn: Connection) -> TreeHead:
    return _head(_HEAD.all(conn, {})[0])


def lock(conn: Connection) -> TreeHead | None:
    """Take the tree's write lock for the rest of the transaction (before inserting
    events: on PostgreSQL that orders sequence numbers by commit). On PostgreSQL the lock
    reads the head, which is returned for :func:`extend` (the lock keeps it current)."""
    if conn.dialect.name == "postgresql":
        return _head(_HEAD_FOR_UPDATE.all(conn, {})[0])
    return None


def extend(conn: Connection, locked: TreeHead | None = None) -> TreeHead:
    """Append every event after the tree's last one as leaves; return the new head.
    ``locked`` is what :func:`lock` returned in this transaction, if anything.

    A fixed number of statements whatever k, the number of new events: the head (on
    PostgreSQL, the lock's), the new events, the tree's right edge (one statement of
    O(log n) primary-key reads), then the writes: on SQLite one batched insert of the k
    leaves, one of the new nodes and the head's update; on PostgreSQL one statement for
    all three. Hashing is k leaf hashes and fewer than k node hashes (plus O(log n) for
    the root)."""
    current = locked or head(conn)
    rows = _NEW_EVENTS.all(conn, {"last": current.last_seq})
    if not rows:
        return current
    tree = _right_edge(conn, current)
    append = tree.append
    leaves: list[tuple[int, int, bytes]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for seq, time, actor, action, ref, digest in rows:
        leaf = event_leaf_hash(seq, time, actor, action, ref, digest)
        leaves.append((tree.size, seq, leaf))
        nodes += append(leaf)
    new = TreeHead(tree.size, int(rows[-1][0]), tree.root(), current.log_id)
    _remember_edge(tree, new.root)
    if conn.dialect.name == "postgresql":
        _write_postgresql(conn, leaves, nodes, new)
    else:
        _write_sqlite(conn, leaves, nodes, new)
    return new


# The right edge of the trees this process extended last, by (size, root). A transaction's
# next extend usually starts from the head the previous one wrote, and then needs no read
# of the border nodes (a statement of O(log n) point reads, a sixth of a one-event
# append). The key is the edge's own proof: the root is the hash of exactly these border
# hashes at this size, so a hit is the tree the head names, whichever database or process
# wrote it; a head written elsewhere, or rolled back, simply misses.
_EDGES: Bounded[tuple[bytes, ...]] = Bounded(64)  # a few trees per process (tests open many)


def _right_edge(conn: Connection, current: TreeHead) -> CompactRange:
    border = _EDGES.get((current.size, current.root))
    if border is None:
        keys = CompactRange.border_keys(current.size)
        stored = SqlNodes(conn).nodes(keys)
        border = tuple(stored[k] for k in keys)
    return CompactRange(current.size, border)


def _remember_edge(tree: CompactRange, root: bytes) -> None:
    _EDGES.put((tree.size, root), tuple(tree.hashes))


def _write_sqlite(conn: Connection, leaves: list[tuple[int, int, bytes]],
                  nodes: list[tuple[int, int, bytes]], new: TreeHead) -> None:
    """The leaves, the nodes, the head. The rows are already tuples in column order, so
    they go to the cursor as they are (a dict per row, converted back by :class:`Prepared`,
    was a third of a batch's cost), as multi-row inserts (``executemany`` sets up each
    row's insert apart: 15 against 8.5 ms for 3,260 leaves, measured)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for head, rows in ((_SQLITE_LEAVES, leaves), (_SQLITE_NODES, nodes)):
            for sql, params in multi_row_inserts(head, "(?, ?, ?)", rows):
                try:
                    cursor.execute(sql, params)
                except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it
                    raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error
                                              ) from exc
    finally:
        cursor.close()
    _SET_HEAD.execute(conn, {"n": new.size, "s": new.last_seq, "r": new.root}).close()


# One round trip on PostgreSQL whatever the batch: arrays unnested into both tables and the
# head updated by one statement (executemany of thousands of rows is pipelined, but still a
# message per row and much slower than an unnest).
_WRITE_POSTGRESQL = Prepared(sa.text("""
    WITH leaves AS (
        INSERT INTO audit_leaves (leaf_index, seq, hash)
        SELECT * FROM unnest(CAST(:li AS BIGINT[]), CAST(:ls AS BIGINT[]),
                             CAST(:lh AS BYTEA[]))),
    nodes AS (
        INSERT INTO merkle_nodes (level, idx, hash)
        SELECT * FROM unnest(CAST(:nl AS SMALLINT[]), CAST(:ni AS BIGINT[]),
                             CAST(:nh AS BYTEA[])))
    UPDATE audit_tree SET size = :n, last_seq = :s, root = :r WHERE id = 1"""))


def _write_postgresql(conn: Connection, leaves: list[tuple[int, int, bytes]],
                      nodes: list[tuple[int, int, bytes]], new: TreeHead) -> None:
    li, ls, lh = (list(column) for column in zip(*leaves, strict=True))
    nl, ni, nh = (list(column) for column in zip(*nodes, strict=True)) if nodes else ([], [], [])
    _WRITE_POSTGRESQL.execute(conn, {"li": li, "ls": ls, "lh": lh, "nl": nl, "ni": ni,
                                     "nh": nh, "n": new.size, "s": new.last_seq,
                                     "r": new.root}).close()


_LEAF_READ = "SELECT 0, leaf_index, hash FROM audit_leaves WHERE leaf_index = :i{n}"
_NODE_READ = "SELECT level, idx, hash FROM merkle_nodes WHERE level = :l{n} AND idx = :i{n}"
_NODE_QUERIES: dict[tuple[bool, ...], Prepared] = {}


def _node_query(shape: tuple[bool, ...]) -> Prepared:
    """One statement reading the keys of ``shape`` (True: a leaf, False: an upper node):
    a UNION ALL of primary-key point reads. Unlike ``(level, idx) IN (...)``, which SQLite
    answers with a full scan, or an OR of terms, whose plan depends on the planner, each
    arm can only be a primary-key lookup on both backends."""
    query = _NODE_QUERIES.get(shape)
    if query is None:
        arms = [(_LEAF_READ if is_leaf else _NODE_READ).format(n=n)
                for n, is_leaf in enumerate(shape)]
        query = _NODE_QUERIES[shape] = Prepared(sa.text(" UNION ALL ".join(arms)))
    return query


class SqlNodes:
    """:class:`~modelatlas.integrity.merkle.NodeReader` over ``audit_leaves`` (level 0)
    and ``merkle_nodes``: one statement of primary-key point reads per call."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        if not keys:
            return {}
        ordered = sorted(keys)  # the same key set always makes the same statement text
        values: dict[str, int] = {}
        for n, (level, idx) in enumerate(ordered):
            values[f"i{n}"] = idx
            if level:
                values[f"l{n}"] = level
        query = _node_query(tuple(level == 0 for level, _ in ordered))
        return {(int(lv), int(i)): bytes(h) for lv, i, h in query.all(self.conn, values)}


_LEAF_OF = Prepared(sa.text("SELECT leaf_index, hash FROM audit_leaves WHERE seq = :s"))
_SEQ_AT = Prepared(sa.text("SELECT seq FROM audit_leaves WHERE leaf_index = :i"))


def leaf_of(conn: Connection, seq: int) -> tuple[int, bytes] | None:
    """The leaf index and hash of event ``seq``, if the tree holds it."""
    rows = _LEAF_OF.all(conn, {"s": seq})
    return (int(rows[0][0]), bytes(rows[0][1])) if rows else None


def seq_at(conn: Connection, leaf_index: int) -> int | None:
    rows = _SEQ_AT.all(conn, {"i": leaf_index})
    return int(rows[0][0]) if rows else None


# --- checkpoints -------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    signed_note: str
    key_id: str
    created_at: str


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3], row[4])


_CHECKPOINT_COLUMNS = (audit_checkpoints.c.size, audit_checkpoints.c.root,
                       audit_checkpoints.c.signed_note, audit_checkpoints.c.key_id,
                       audit_checkpoints.c.created_at)


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(sa.select(*_CHECKPOINT_COLUMNS)
                       .order_by(audit_checkpoints.c.size.desc()).limit(1)).first()
    return None if row is None else _checkpoint(row)


def checkpoints(conn: Connection) -> Iterator[StoredCheckpoint]:
    """Every stored checkpoint, smallest tree first."""
    for row in conn.execute(sa.select(*_CHECKPOINT_COLUMNS)
                            .order_by(audit_checkpoints.c.size)):
        yield _checkpoint(row)


def store_checkpoint(conn: Connection, checkpoint: StoredCheckpoint) -> StoredCheckpoint:
    """Store a checkpoint unless one for the same size exists (two servers signing the same
    head at once): the stored one is returned either way."""
    stored = conn.execute(sa.select(*_CHECKPOINT_COLUMNS)
                          .where(audit_checkpoints.c.size == checkpoint.size)).first()
    if stored is not None:
        return _checkpoint(stored)
    conn.execute(audit_checkpoints.insert().values(
        size=checkpoint.size, root=checkpoint.root, signed_note=checkpoint.signed_note,
        key_id=checkpoint.key_id, created_at=checkpoint.created_at))
    return checkpoint


# Replays read millions of rows: on the driver's cursor, in batches, as plain tuples, and
# iterated in C (``chain`` over ``fetchmany``) rather than through a Python generator (a
# server-side cursor on PostgreSQL, so memory stays flat). ``{p}`` is the placeholder.
_STREAM_BATCH = 10_000
_EVENT_ROWS = ("SELECT seq, time, actor, action, ref, payload, payload_sha256 FROM events "
               "WHERE seq > {p} ORDER BY seq")
_LEAF_ROWS = "SELECT seq, hash FROM audit_leaves ORDER BY leaf_index"


class Rows(Iterator[tuple[Any, ...]]):
    """Rows streamed from one cursor; :meth:`close` it (a verifier that stops early must not
    leave a server-side cursor open). ``iter()`` hands out the underlying C iterator."""

    def __init__(self, conn: Connection, sql: str, params: tuple[Any, ...], name: str) -> None:
        driver: Any = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            self._cursor = driver.cursor(name=f"modelatlas_{name}")
            sql = sql.format(p="%s")
        else:
            self._cursor = driver.cursor()
            sql = sql.format(p="?")
        self._cursor.execute(sql, params)
        batches = iter(lambda: self._cursor.fetchmany(_STREAM_BATCH), [])
        self._rows: Iterator[tuple[Any, ...]] = chain.from_iterable(batches)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._rows

    def __next__(self) -> tuple[Any, ...]:
        return next(self._rows)

    def close(self) -> None:
        self._cursor.close()


def event_rows(conn: Connection, *, after: int = 0) -> Rows:
    """Every event after ``after`` in sequence order, streamed (for verify and export):
    ``(seq, time, actor, action, ref, payload, payload_sha256)``."""
    return Rows(conn, _EVENT_ROWS, (after,), "audit_events")


def leaf_rows(conn: Connection) -> Rows:
    """Every stored leaf in leaf order, streamed: ``(seq, hash)``."""
    return Rows(conn, _LEAF_ROWS, (), "audit_leaves")


# Ranges for a verification split across processes: events by sequence number, leaves by
# position, each half-open ``[from, to)`` (primary-key range scans on both backends).
_EVENT_RANGE = ("SELECT seq, time, actor, action, ref, payload, payload_sha256 FROM events "
                "WHERE seq >= {p} AND seq < {p} ORDER BY seq")
_LEAF_RANGE = ("SELECT seq, hash FROM audit_leaves WHERE leaf_index >= {p} AND "
               "leaf_index < {p} ORDER BY leaf_index")
_EVENT_AFTER = Prepared(sa.text("SELECT seq FROM events WHERE seq > :s LIMIT 1"))
_LEAF_OUTSIDE = (Prepared(sa.text("SELECT leaf_index FROM audit_leaves WHERE leaf_index < 0 "
                                  "LIMIT 1")),
                 Prepared(sa.text("SELECT leaf_index FROM audit_leaves WHERE "
                                  "leaf_index >= :n LIMIT 1")))


def event_range(conn: Connection, first_seq: int, end_seq: int) -> Rows:
    """The events with ``first_seq <= seq < end_seq``, streamed as :func:`event_rows`."""
    return Rows(conn, _EVENT_RANGE, (first_seq, end_seq), "audit_event_range")


def leaf_range(conn: Connection, first: int, end: int) -> Rows:
    """The stored leaves at positions ``first <= leaf_index < end``: ``(seq, hash)``."""
    return Rows(conn, _LEAF_RANGE, (first, end), "audit_leaf_range")


def outside(conn: Connection, tree: TreeHead) -> bool:
    """Whether an event follows the tree's last one or a leaf lies outside its positions
    (an event appended, or a leaf written, behind the tree's back)."""
    return bool(_EVENT_AFTER.all(conn, {"s": tree.last_seq})
                or _LEAF_OUTSIDE[0].all(conn, {})
                or _LEAF_OUTSIDE[1].all(conn, {"n": tree.size}))


# A chunk of the log as a handful of values (SQLite, for the fast path of verify): the rows
# are concatenated inside SQLite, so Python makes a few objects per chunk instead of seven
# per event, and the leaf data is written by SQLite's JSON (leaf.SQLITE_LEAF_DATA), each
# behind the leaf hash's 0x00 so that it is hashed as split (a copy of every leaf saved).
# Newline separates payloads and leaf data: canonical JSON holds none unescaped.
# Order: the leaves come from a subquery ordered by position, which SQLite keeps ordered
# under group_concat (it drops a subquery's ORDER BY only below count/min/max). The events
# come straight from a range scan of their primary key, in key order: the ordered subquery
# (a co-routine copying every row) cost a fifth of the whole check, and the caller does not
# rely on it: it finds their seqs equal to the leaves' and the leaves' increasing.
_LEAF_BLOCK = (
    "SELECT CAST(group_concat(hash, '') AS BLOB), group_concat(seq), count(*), "
    "sum(typeof(hash) = 'blob' AND length(hash) = 32) FROM (SELECT seq, hash "
    "FROM audit_leaves WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index)")
_EVENT_BLOCK = (
    f"SELECT CAST(char(0) || group_concat({SQLITE_LEAF_DATA}, char(10, 0)) AS BLOB), "
    "CAST(group_concat(payload, char(10)) AS BLOB), group_concat(payload_sha256, ''), "
    "group_concat(seq), count(*), "
    "sum(typeof(payload) = 'text' AND length(payload_sha256) = 64) "
    "FROM events WHERE seq >= ? AND seq <= ?")


@dataclass(frozen=True)
class LeafBlock:
    """Stored leaves ``[first, end)`` in leaf order, as :func:`leaf_block` reads them."""

    hashes: bytes  # the hashes, concatenated
    seqs: str  # their seqs, comma-separated
    count: int
    well_formed: int  # how many hashes are BLOBs of 32 bytes


@dataclass(frozen=True)
class EventBlock:
    """Events in a seq range, in the order of a scan of their primary key (seq order), as
    :func:`event_block` reads them."""

    leaf_inputs: bytes  # each event's 0x00 || leaf data (leaf.leaf_data), newline-separated
    payloads: bytes  # the payloads as UTF-8, newline-separated
    digests: str  # the payload_sha256 values, concatenated
    seqs: str  # comma-separated
    count: int
    well_formed: int  # how many have a TEXT payload and a 64-character payload_sha256


def _block_row(conn: Connection, sql: str, params: tuple[int, int]) -> Any:
    driver: Any = conn.connection.driver_connection
    cursor = driver.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def leaf_block(conn: Connection, first: int, end: int) -> LeafBlock:
    """The stored leaves at positions ``first <= leaf_index < end`` (SQLite only)."""
    hashes, seqs, count, good = _block_row(conn, _LEAF_BLOCK, (first, end))
    return LeafBlock(hashes or b"", seqs or "", count, good or 0)


def event_block(conn: Connection, first_seq: int, last_seq: int) -> EventBlock:
    """The events with ``first_seq <= seq <= last_seq`` (SQLite only). A value SQLite's JSON
    cannot hold (a BLOB) raises its ``sqlite3.Error``."""
    data, payloads, digests, seqs, count, good = _block_row(conn, _EVENT_BLOCK,
                                                            (first_seq, last_seq))
    return EventBlock(data or b"", payloads or b"", digests or "", seqs or "", count, good or 0)
