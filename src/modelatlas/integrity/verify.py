"""Replaying an audit log against its signed checkpoints: the one verifier behind
``modelatlas audit verify`` (over the database) and ``--offline`` (over an export file).

Each event is checked three ways, in one pass, in sequence order:

1. its payload against its ``payload_sha256`` (an edited payload names its own seq);
2. its leaf against the stored leaf for the same position, when the store's leaves are
   given (a deleted, inserted, reordered or edited event names the first seq that differs);
3. the recomputed tree's root at every checkpoint size against the signed root (this catches
   an attacker who rewrote events *and* leaves consistently: the first bad seq is then the
   first event after the last checkpoint that still matches, as close as signed heads can
   place it).

A signature that does not verify under the given key fails before any event is read.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from modelatlas.errors import FieldError
from modelatlas.integrity.errors import VerificationFailed
from modelatlas.integrity.leaf import event_leaf_hash
from modelatlas.integrity.merkle import CompactRange
from modelatlas.integrity.note import Checkpoint, Verifier, open_checkpoint

# (seq, time, actor, action, ref, payload text, payload_sha256)
EventTuple = tuple[Any, ...]
# (seq, leaf hash), in leaf order
LeafTuple = tuple[Any, ...]


@dataclass(frozen=True)
class Verified:
    events: int
    root: bytes
    checkpoints: int
    last_seq: int
    seconds: float


def _bad(seq: int | None, message: str) -> VerificationFailed:
    where = f"seq {seq}" if seq is not None else "the log"
    return VerificationFailed(f"audit log verification failed at {where}: {message}",
                              errors=[FieldError(f"/events/{seq}" if seq else "/", message)],
                              first_bad_seq=seq)


def open_checkpoints(notes: Iterable[str], verifier: Verifier,
                     origin: str | None) -> list[Checkpoint]:
    """Every signed head, verified, smallest first; two heads for one size must agree."""
    heads: dict[int, Checkpoint] = {}
    for note in notes:
        head = open_checkpoint(note, verifier, origin=origin)
        if head.size in heads and heads[head.size].root != head.root:
            raise _bad(None, f"two signed heads for size {head.size} disagree (a fork)")
        heads[head.size] = head
    return [heads[s] for s in sorted(heads)]


class _Replay:
    """The replay's state between events; the per-event work is in :meth:`run`."""

    def __init__(self, heads: list[Checkpoint], leaves: Iterator[LeafTuple] | None) -> None:
        self.heads = [h for h in heads if h.size > 0]
        self.leaves = leaves
        self.tree = CompactRange()
        self.next_head = 0
        self.since_good: int | None = None  # first seq after the last matching head
        self.last_seq = 0

    def _next_size(self) -> int:
        return self.heads[self.next_head].size if self.next_head < len(self.heads) else -1

    def run(self, events: Iterable[EventTuple]) -> None:
        """Check every event: one tight loop (a replay of millions of events spends its
        time here), hashing inline; the rare paths (a head reached, a failure) leave it."""
        sha256, leaf_of = hashlib.sha256, event_leaf_hash
        tree = self.tree
        leaves = None if self.leaves is None else iter(self.leaves)  # the C iterator
        stack, size, last = tree.hashes, tree.size, self.last_seq
        push, pop = stack.append, stack.pop
        since_good, head_size = self.since_good, self._next_size()
        for seq, at, actor, action, ref, payload, digest in events:
            if seq <= last:
                raise _bad(seq, f"out of order: seq {seq} follows seq {last}")
            if sha256(payload.encode()).hexdigest() != digest:
                raise _bad(seq, "the payload does not match its payload_sha256")
            leaf = leaf_of(seq, at, actor, action, ref, digest)
            if leaves is not None:
                stored = next(leaves, None)
                if stored is None or stored[0] != seq or stored[1] != leaf:
                    _stored_mismatch(seq, leaf, stored)
            if since_good is None:
                since_good = seq
            node, n = leaf, size  # CompactRange.append, inline
            while n & 1:
                node = sha256(b"\x01" + pop() + node).digest()
                n >>= 1
            push(node)
            size, last = size + 1, seq
            if size == head_size:
                tree.size, self.since_good = size, since_good
                self._against_head(self.heads[self.next_head])
                since_good, head_size = None, self._next_size()
        tree.size, self.last_seq, self.since_good = size, last, since_good

    def _against_head(self, head: Checkpoint) -> None:
        if self.tree.root() != head.root:
            raise _bad(self.since_good, f"the log does not match the signed head at size "
                                        f"{head.size} (a change in the events after the last "
                                        "matching head)")
        self.next_head += 1
        self.since_good = None

    def finish(self, *, require_covered: bool) -> None:
        if self.leaves is not None:
            stored = next(self.leaves, None)
            if stored is not None:
                raise _bad(int(stored[0]), "the event is missing (the log was truncated)")
        if self.next_head < len(self.heads):
            head = self.heads[self.next_head]
            raise _bad(self.since_good or None,
                       f"a signed head covers {head.size} events but the log holds "
                       f"{self.tree.size} (truncated after seq {self.last_seq})")
        if require_covered and self.since_good is not None:
            raise _bad(self.since_good, "events after the last signed head are not covered")


def _stored_mismatch(seq: int, leaf: bytes, stored: LeafTuple | None) -> None:
    """Raise for an event whose stored leaf (the next in leaf order) is not its own."""
    if stored is None:
        raise _bad(seq, "the event is not in the Merkle tree (appended behind its back)")
    stored_seq = int(stored[0])
    if stored_seq < seq:
        raise _bad(stored_seq, f"the event is missing (the log jumps to seq {seq})")
    if stored_seq > seq:
        raise _bad(seq, "the event is not in the Merkle tree (inserted behind its back)")
    if bytes(stored[1]) != leaf:
        raise _bad(seq, "the event differs from the one the tree recorded")


def replay(events: Iterable[EventTuple], heads: list[Checkpoint], *,
           leaves: Iterator[LeafTuple] | None = None,
           require_covered: bool = False) -> Verified:
    """Replay ``events`` (sequence order) against verified ``heads``; raise
    :class:`VerificationFailed` naming the first bad seq, or return what was checked."""
    started = time.perf_counter()
    run = _Replay(heads, leaves)
    run.run(events)
    run.finish(require_covered=require_covered)
    return Verified(run.tree.size, run.tree.root(), len(heads), run.last_seq,
                    time.perf_counter() - started)
