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

from collections.abc import Collection, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.integrity.leaf import event_leaf_hash
from modelatlas.integrity.merkle import CompactRange, NodeKey
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import (
    audit_checkpoints,
    audit_leaves,
    audit_tree,
    events,
    merkle_nodes,
)


@dataclass(frozen=True)
class TreeHead:
    size: int
    last_seq: int
    root: bytes
    log_id: str


_HEAD = sa.select(audit_tree.c.size, audit_tree.c.last_seq, audit_tree.c.root,
                  audit_tree.c.log_id).where(audit_tree.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_NEW_EVENTS = sa.text(
    "SELECT seq, time, actor, action, ref, payload_sha256 FROM events "
    "WHERE seq > :last ORDER BY seq")
_INSERT_LEAVES = Prepared(audit_leaves.insert())
_INSERT_NODES = Prepared(merkle_nodes.insert())
_SET_HEAD = (audit_tree.update().where(audit_tree.c.id == 1)
             .values(size=sa.bindparam("n"), last_seq=sa.bindparam("s"),
                     root=sa.bindparam("r")))


def head(conn: Connection) -> TreeHead:
    row = conn.execute(_HEAD).one()
    return TreeHead(int(row.size), int(row.last_seq), bytes(row.root), row.log_id)


def lock(conn: Connection) -> None:
    """Take the tree's write lock for the rest of the transaction (before inserting
    events: on PostgreSQL that orders sequence numbers by commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_HEAD_FOR_UPDATE).one()


def extend(conn: Connection) -> TreeHead:
    """Append every event after the tree's last one as leaves; return the new head.

    O(log n) reads (the tree's right edge) and O(k) rows written for k new events."""
    current = head(conn)
    rows = conn.execute(_NEW_EVENTS, {"last": current.last_seq}).all()
    if not rows:
        return current
    border = SqlNodes(conn).nodes(CompactRange.border_keys(current.size))
    tree = CompactRange(current.size,
                        [border[k] for k in CompactRange.border_keys(current.size)])
    leaves, nodes = [], []
    for seq, time, actor, action, ref, digest in rows:
        leaf = event_leaf_hash(int(seq), time, actor, action, ref, digest)
        leaves.append({"leaf_index": tree.size, "seq": int(seq), "hash": leaf})
        nodes += [{"level": lv, "idx": i, "hash": h} for lv, i, h in tree.append(leaf)]
    _INSERT_LEAVES.executemany(conn, leaves)
    if nodes:
        _INSERT_NODES.executemany(conn, nodes)
    new = TreeHead(tree.size, int(rows[-1][0]), tree.root(), current.log_id)
    conn.execute(_SET_HEAD, {"n": new.size, "s": new.last_seq, "r": new.root})
    return new


class SqlNodes:
    """:class:`~modelatlas.integrity.merkle.NodeReader` over ``audit_leaves`` (level 0)
    and ``merkle_nodes``: at most two indexed queries per call."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def nodes(self, keys: Collection[NodeKey]) -> Mapping[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        leaves = [idx for level, idx in keys if level == 0]
        upper = [(level, idx) for level, idx in keys if level > 0]
        if leaves:
            rows = self.conn.execute(sa.select(audit_leaves.c.leaf_index, audit_leaves.c.hash)
                                     .where(audit_leaves.c.leaf_index.in_(leaves)))
            found.update({(0, int(i)): bytes(h) for i, h in rows})
        if upper:
            # one "level = l AND idx IN (...)" term per level: each is a primary key range
            # probe (a row-value IN is a full scan on SQLite)
            by_level: dict[int, list[int]] = {}
            for level, idx in upper:
                by_level.setdefault(level, []).append(idx)
            upper_rows = self.conn.execute(
                sa.select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash)
                .where(sa.or_(*(sa.and_(merkle_nodes.c.level == level,
                                        merkle_nodes.c.idx.in_(ids))
                                for level, ids in by_level.items()))))
            found.update({(int(lv), int(i)): bytes(h) for lv, i, h in upper_rows})
        return found


def leaf_of(conn: Connection, seq: int) -> tuple[int, bytes] | None:
    """The leaf index and hash of event ``seq``, if the tree holds it."""
    row = conn.execute(sa.select(audit_leaves.c.leaf_index, audit_leaves.c.hash)
                       .where(audit_leaves.c.seq == seq)).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def seq_at(conn: Connection, leaf_index: int) -> int | None:
    return conn.execute(sa.select(audit_leaves.c.seq)
                        .where(audit_leaves.c.leaf_index == leaf_index)).scalar()


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


def event_rows(conn: Connection, *, after: int = 0) -> Generator[tuple[Any, ...], None, None]:
    """Every event after ``after`` in sequence order, streamed (for verify and export)."""
    result = conn.execution_options(yield_per=20_000).execute(
        sa.select(events.c.seq, events.c.time, events.c.actor, events.c.action, events.c.ref,
                  events.c.payload, events.c.payload_sha256)
        .where(events.c.seq > after).order_by(events.c.seq))
    try:
        for row in result:
            yield tuple(row)
    finally:  # a verifier that stops early must not leave a server-side cursor open
        result.close()


def leaf_rows(conn: Connection) -> Generator[tuple[Any, ...], None, None]:
    result = conn.execution_options(yield_per=20_000).execute(
        sa.select(audit_leaves.c.leaf_index, audit_leaves.c.seq, audit_leaves.c.hash)
        .order_by(audit_leaves.c.leaf_index))
    try:
        for row in result:
            yield tuple(row)
    finally:  # a verifier that stops early must not leave a server-side cursor open
        result.close()
