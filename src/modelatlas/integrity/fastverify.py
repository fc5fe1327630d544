"""Verifying a stored audit log at speed: the fast path of ``modelatlas audit verify``.

:func:`verify_stored` proves a large log *good* on every CPU at once (the event-by-event
replay of :mod:`~modelatlas.integrity.verify` uses one), and leaves naming what is wrong
to that replay: on any doubt it returns ``None`` and the caller replays, so a bad log is
reported exactly as before (the first bad seq), only later by the time the fast path took.

What makes it fast (bench/audit_bench.py measures each, bench/results/README.md):

- Chunks of :data:`CHUNK` events are checked as columns, not rows. On SQLite a chunk is
  read as a handful of values (:func:`~modelatlas.integrity.log.event_block`): SQLite
  writes each event's leaf data with its JSON functions (``leaf.SQLITE_LEAF_DATA``, the
  same bytes as the replay's canonical JSON) and concatenates leaf data, payloads, digests
  and seqs, so no Python object is made per event but the hashes; those run in ``map``
  chains, stored leaves are compared as one buffer, and the chunk's subtree is built level
  by level (:func:`~modelatlas.integrity.merkle.perfect_levels`). What is left is mostly
  SHA-256 calls (three per event, about 0.6 us each) and SQLite's own scanning and JSON
  (about 2 us): some 5 us of CPU per event against the replay's 6.5-7 (a Python loop over
  seven fetched columns a row). PostgreSQL's chunks are read row by row as before (its
  JSON and text differ from SQLite's).
- A chunk starts at a multiple of its size, so its subtree is a subtree of the log's tree:
  a chunk hands back only its root and the right edge at each signed head's size inside
  it, and the roots of the log at every head are put together from those.
- A large log is split into contiguous parts, one per CPU: the first is checked here, the
  others in forked processes with connections of their own, each reading its own range.
  The parts are bounded by this connection's view (the tree head it read), so a write
  committed meanwhile changes nothing the parts read, and anything outside the tree in
  this view sends the log to the replay (on PostgreSQL, whose reads are READ COMMITTED,
  that includes a write committed during the check: the replay then decides).

Equivalence with the replay: the parts partition the events (by seq) and the leaves (by
position) of this view; each part checks that its events and leaves pair up one to one in
order with equal seqs, recomputed leaf hashes and payload digests. That is what the replay
checks over the whole, plus the roots at every signed head, which are compared here too.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice
from multiprocessing.connection import Connection as Pipe
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from modelatlas.collector import collector_paused
from modelatlas.integrity import log
from modelatlas.integrity.leaf import event_leaf_hash
from modelatlas.integrity.merkle import (
    CompactRange,
    compact_nodes,
    fold,
    perfect_levels,
)
from modelatlas.integrity.note import Checkpoint
from modelatlas.integrity.verify import Verified

# events per chunk: a subtree of 2**12 leaves, some 1.3 MB of SQLite's values at once. In
# one process 4096, 8192 and 16384 cost the same per event (1024 more); with two processes
# on this kind of 2-CPU machine, whose CPUs share caches, 4096 gave ~6% more events/s
# than 16384 over nine alternating rounds (less memory traffic competing)
CHUNK = 1 << 12
# Below this many events one process checks the whole log. A forked worker costs about
# 60-70 ms of CPU (the fork, a new engine and connection, pages copied on write) and a
# split saves half of ~5 us per event of wall time (SQLite; ~7 on PostgreSQL), so it pays
# from some 30,000 events on an idle machine; this leaves room for a busy one
# (bench/audit_bench.py --verify-only).
PARALLEL_FROM = 50_000
MAX_WORKERS = 8
_LOWEST_SEQ = -(2**63)
_DIGEST = type(sha256()).digest

# A chunk's answer: (events, last seq, {size inside the chunk: the right edge there})
ChunkResult = tuple[int, int, dict[int, list[bytes]]]


@dataclass(frozen=True)
class Part:
    """A contiguous range of the log: leaves ``[first_leaf, end_leaf)`` and the events
    ``first_seq <= seq < end_seq``. ``first_leaf`` is a multiple of the chunk size."""

    first_leaf: int
    end_leaf: int
    first_seq: int
    end_seq: int


def _edges(leaves: list[bytes], last_seq: int, sizes: Sequence[int]) -> ChunkResult:
    levels = perfect_levels(leaves)
    return len(leaves), last_seq, {size: compact_nodes(levels, size) for size in sizes}


def _check_rows(rows: list[tuple[Any, ...]], stored: list[tuple[Any, ...]],
                sizes: Sequence[int]) -> ChunkResult | None:
    """Check one chunk's event rows against its stored leaf rows (PostgreSQL); ``None`` at
    the first doubt."""
    seqs, times, actors, actions, refs, payloads, digests = zip(*rows, strict=True)
    stored_seqs, stored_hashes = zip(*stored, strict=True)
    if stored_seqs != seqs:
        return None
    try:
        # each digest equal to its payload's hexdigest, compared all at once: equal lengths
        # of 64 make the joined texts equal exactly when every pair is
        computed = b"".join(map(_DIGEST, map(sha256, map(str.encode, payloads))))
        if set(map(len, digests)) != {64} or computed.hex() != "".join(digests):
            return None
        leaves = list(map(event_leaf_hash, seqs, times, actors, actions, refs, digests))
    except (TypeError, ValueError):  # a value of the wrong type: the replay names it
        return None
    if b"".join(leaves) != b"".join(stored_hashes):
        return None
    return _edges(leaves, int(seqs[-1]), sizes)


def _check_block(events: log.EventBlock, stored: log.LeafBlock,
                 sizes: Sequence[int]) -> ChunkResult | None:
    """Check one chunk read as blocks (SQLite) against its stored leaves; ``None`` at the
    first doubt. The concatenations compare pairwise because the pieces' lengths are fixed
    (32-byte hashes, 64-character digests: counted in SQL) or their separator cannot occur
    inside them (a comma in decimal seqs; a newline in JSON, which escapes it: a payload
    holding one gives a count that differs, and the replay decides). Equal seqs pair each
    leaf with its event as the replay does, and are increasing in leaf order as the replay
    requires because the events' are: they are read by a scan of their integer primary
    key, which visits it in increasing order (so no seq is parsed here but the last)."""
    take = stored.count
    if not (events.count == events.well_formed == stored.well_formed == take
            and events.seqs == stored.seqs):
        return None
    try:  # the replay reads text as the driver decodes it: UTF-8 or an error (ASCII,
        # the usual case, is checked without making a string)
        events.payloads.isascii() or events.payloads.decode()
        events.leaf_inputs.isascii() or events.leaf_inputs.decode()
    except UnicodeDecodeError:
        return None
    payloads, inputs = events.payloads.split(b"\n"), events.leaf_inputs.split(b"\n")
    if len(payloads) != take or len(inputs) != take:
        return None
    if b"".join(map(_DIGEST, map(sha256, payloads))).hex() != events.digests:
        return None
    leaves = list(map(_DIGEST, map(sha256, inputs)))
    if b"".join(leaves) != stored.hashes:
        return None
    return _edges(leaves, _last_seq(stored, 0), sizes)


def _bounds(part: Part, chunk: int) -> list[tuple[int, int]]:
    """``(first leaf, leaves)`` of each chunk of ``part``."""
    return [(start, min(chunk, part.end_leaf - start))
            for start in range(part.first_leaf, part.end_leaf, chunk)]


def _sizes_in(sizes: Sequence[int], start: int, take: int) -> list[int]:
    """The sizes to keep an edge for inside the chunk ``[start, start + take)``, relative
    to it, and the chunk's own (its root's)."""
    return [*(s - start for s in sizes if start < s < start + take), take]


def _check_part_rows(conn: Connection, part: Part, sizes: Sequence[int],
                     chunk: int) -> list[ChunkResult] | None:
    done: list[ChunkResult] = []
    with closing(log.event_range(conn, part.first_seq, part.end_seq)) as events, \
            closing(log.leaf_range(conn, part.first_leaf, part.end_leaf)) as leaves:
        for start, take in _bounds(part, chunk):
            rows, stored = list(islice(events, take)), list(islice(leaves, take))
            if len(rows) != take or len(stored) != take:
                return None
            result = _check_rows(rows, stored, _sizes_in(sizes, start, take))
            if result is None:
                return None
            done.append(result)
        if next(events, None) is not None:  # an event between two leaves' seqs
            return None
    return done


Block = tuple[log.EventBlock, log.LeafBlock]


def _last_seq(stored: log.LeafBlock, default: int) -> int:
    """The seq of the block's last leaf (``ValueError`` if it is not an integer)."""
    return int(stored.seqs[stored.seqs.rfind(",") + 1:]) if stored.count else default


def _read_block(conn: Connection, part: Part, start: int, take: int,
                first_seq: int) -> Block:
    """A chunk's stored leaves and its events: those from ``first_seq`` (the previous
    chunk's last seq + 1) to its last leaf's seq, or to the part's end for its last chunk,
    so that an event between two leaves or after the last lands in a chunk and spoils the
    comparison of its seqs."""
    stored = log.leaf_block(conn, start, start + take)
    last_seq = part.end_seq - 1
    if start + take < part.end_leaf:
        last_seq = _last_seq(stored, first_seq)
    return log.event_block(conn, first_seq, last_seq), stored


def _blocks(conn: Connection, part: Part, bounds: list[tuple[int, int]]) -> Iterator[Block]:
    """The chunks at ``bounds`` as blocks, each from the seq after the last one's.

    Read here, not in a thread while the previous chunk is hashed: SQLite steps without the
    GIL, but on this 2-CPU machine the parts already fill both CPUs, and a reader thread
    cost more CPU (GIL hand-offs) than it saved in wall time under load (measured)."""
    first_seq = part.first_seq
    for start, take in bounds:
        block = _read_block(conn, part, start, take, first_seq)
        first_seq = _last_seq(block[1], first_seq - 1) + 1
        yield block


def _check_part_blocks(conn: Connection, part: Part, sizes: Sequence[int],
                       chunk: int) -> list[ChunkResult] | None:
    done: list[ChunkResult] = []
    bounds = _bounds(part, chunk)
    try:
        for (start, take), (events, stored) in zip(bounds, _blocks(conn, part, bounds),
                                                   strict=True):
            if stored.count != take:
                return None
            result = _check_block(events, stored, _sizes_in(sizes, start, take))
            if result is None:
                return None
            done.append(result)
    except (sqlite3.Error, ValueError):  # a value SQLite's JSON cannot hold, a leaf's seq
        return None                      # that is no integer: the replay names it
    return done


def check_part(conn: Connection, part: Part, sizes: Sequence[int], *,
               chunk: int = CHUNK) -> list[ChunkResult] | None:
    """Check one part chunk by chunk; ``sizes`` are tree sizes whose right edges to keep
    (every signed head's size and the whole tree's). SQLite reads a chunk as a few values
    (:func:`~modelatlas.integrity.log.event_block`), PostgreSQL row by row."""
    check = _check_part_blocks if conn.dialect.name == "sqlite" else _check_part_rows
    # a chunk makes some 150,000 tuples and strings, none in a cycle, and the collections
    # their allocation triggers cost about a third of the check's CPU time (2.0 s against
    # 3.2 s for 200,000 events, measured)
    with collector_paused():
        return check(conn, part, sizes, chunk)


def _roots(chunks: list[ChunkResult], chunk: int) -> dict[int, bytes]:
    """The tree's root at every size the chunks kept an edge for: the chunks' own roots,
    combined as the leaves of the tree above them, and the edge inside the chunk."""
    above = CompactRange()
    roots: dict[int, bytes] = {}
    start = 0
    for count, _, edges in chunks:
        for size, edge in edges.items():
            roots[start + size] = fold(above.hashes + edge)
        if count == chunk:
            above.append(fold(edges[count]))
        start += count
    return roots


def _default_workers(conn: Connection, events: int) -> int:
    url = conn.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    # Fork only a single-threaded process (the CLI): in a server, another thread may hold a
    # lock (a connection pool's, logging's) that the child would inherit locked forever.
    if (events < PARALLEL_FROM or in_memory or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


def _split(conn: Connection, tree: log.TreeHead, workers: int, chunk: int) -> list[Part] | None:
    chunks = -(-tree.size // chunk)
    workers = max(1, min(workers, chunks))
    firsts = [chunks * k // workers * chunk for k in range(workers)]
    seqs = [_LOWEST_SEQ]
    for first in firsts[1:]:
        seq = log.seq_at(conn, first)
        if seq is None:
            return None
        seqs.append(seq)
    ends, end_seqs = [*firsts[1:], tree.size], [*seqs[1:], tree.last_seq + 1]
    return [Part(*bounds) for bounds in zip(firsts, ends, seqs, end_seqs, strict=True)]


def _in_child(url: sa.URL, part: Part, sizes: Sequence[int], chunk: int, out: Pipe) -> None:
    """A forked worker: its own engine and connection, one part, the answer down ``out``
    (``None`` for any failure: the parent then replays, which reports it properly)."""
    result = None
    try:
        engine = sa.create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                result = check_part(conn, part, sizes, chunk=chunk)
        finally:
            engine.dispose()
    except Exception:  # any failure at all is the replay's to report
        result = None
    out.send(result)
    out.close()


def _check_parts(conn: Connection, parts: list[Part], sizes: Sequence[int],
                 chunk: int) -> list[ChunkResult] | None:
    """Every part but the first in a forked process, the first here; chunks in order."""
    context = multiprocessing.get_context("fork")
    children: list[tuple[multiprocessing.process.BaseProcess, Pipe]] = []
    results: list[list[ChunkResult] | None] = []
    try:
        for part in parts[1:]:
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_in_child, name="modelatlas-verify",
                                    args=(conn.engine.url, part, sizes, chunk, send))
            child.start()
            send.close()
            children.append((child, receive))
        results.append(check_part(conn, parts[0], sizes, chunk=chunk))
        for _, receive in children:
            if results[-1] is None:
                break  # a doubt already: the replay decides, the rest need not finish
            try:
                results.append(receive.recv())
            except EOFError:  # the worker died without answering
                results.append(None)
    finally:
        for process, pipe in children:
            if process.is_alive() and len(results) <= len(children):
                process.kill()  # it was not waited for: its answer no longer matters
            process.join()
            pipe.close()
    if len(results) != len(parts) or any(r is None for r in results):
        return None
    return [c for r in results if r is not None for c in r]


def verify_stored(conn: Connection, heads: list[Checkpoint], tree: log.TreeHead, *,
                  workers: int | None = None, chunk: int | None = None) -> Verified | None:
    """The replay's answer for a good log (the events, tree and signed ``heads`` seen
    through ``conn``, whose head is ``tree``), or ``None`` when anything is amiss or
    cannot be decided here, for the caller to replay. ``workers`` (default: one per CPU
    from :data:`PARALLEL_FROM` events; below that one process on SQLite, and ``None`` on
    PostgreSQL, where the replay is as fast in one process) and ``chunk`` (a power of two,
    default :data:`CHUNK`) are for tests and benchmarks."""
    started = time.perf_counter()
    chunk = chunk or CHUNK
    live = [h for h in heads if h.size > 0]
    if tree.size == 0 or any(h.size > tree.size for h in live) or log.outside(conn, tree):
        return None
    count = _default_workers(conn, tree.size) if workers is None else workers
    if workers is None and count == 1 and conn.dialect.name != "sqlite":
        return None  # row by row in one process the replay is as fast, and exact in one pass
    parts = _split(conn, tree, count, chunk)
    if parts is None:
        return None
    sizes = sorted({h.size for h in live} | {tree.size})
    chunks = (check_part(conn, parts[0], sizes, chunk=chunk) if len(parts) == 1
              else _check_parts(conn, parts, sizes, chunk))
    if chunks is None or sum(c[0] for c in chunks) != tree.size:
        return None
    roots = _roots(chunks, chunk)
    if any(roots[h.size] != h.root for h in live):
        return None
    return Verified(tree.size, roots[tree.size], len(heads), chunks[-1][1],
                    time.perf_counter() - started)
