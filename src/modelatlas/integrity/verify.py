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
# (leaf_index, seq, leaf hash)
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
    def __init__(self, heads: list[Checkpoint], leaves: Iterator[LeafTuple] | None) -> None:
        self.heads = [h for h in heads if h.size > 0]
        self.leaves = leaves
        self.tree = CompactRange()
        self.next_head = 0
        self.since_good: int | None = None  # first seq after the last matching head
        self.last_seq = 0

    def event(self, row: EventTuple) -> None:
        seq, at, actor, action, ref, payload, digest = row
        seq = int(seq)
        if seq <= self.last_seq:
            raise _bad(seq, f"out of order: seq {seq} follows seq {self.last_seq}")
        if hashlib.sha256(payload.encode()).hexdigest() != digest:
            raise _bad(seq, "the payload does not match its payload_sha256")
        leaf = event_leaf_hash(seq, at, actor, action, ref, digest)
        if self.leaves is not None:
            self._against_stored(seq, leaf)
        if self.since_good is None:
            self.since_good = seq
        self.tree.append(leaf)
        self.last_seq = seq
        heads = self.heads
        if self.next_head < len(heads) and heads[self.next_head].size == self.tree.size:
            self._against_head(heads[self.next_head])

    def _against_stored(self, seq: int, leaf: bytes) -> None:
        assert self.leaves is not None
        stored = next(self.leaves, None)
        if stored is None:
            raise _bad(seq, "the event is not in the Merkle tree (appended behind its back)")
        _, stored_seq, stored_hash = stored
        stored_seq = int(stored_seq)
        if stored_seq < seq:
            raise _bad(stored_seq, f"the event is missing (the log jumps to seq {seq})")
        if stored_seq > seq:
            raise _bad(seq, "the event is not in the Merkle tree (inserted behind its back)")
        if bytes(stored_hash) != leaf:
            raise _bad(seq, "the event differs from the one the tree recorded")

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
                raise _bad(int(stored[1]), "the event is missing (the log was truncated)")
        if self.next_head < len(self.heads):
            head = self.heads[self.next_head]
            raise _bad(self.since_good or None,
                       f"a signed head covers {head.size} events but the log holds "
                       f"{self.tree.size} (truncated after seq {self.last_seq})")
        if require_covered and self.since_good is not None:
            raise _bad(self.since_good, "events after the last signed head are not covered")


def replay(events: Iterable[EventTuple], heads: list[Checkpoint], *,
           leaves: Iterator[LeafTuple] | None = None,
           require_covered: bool = False) -> Verified:
    """Replay ``events`` (sequence order) against verified ``heads``; raise
    :class:`VerificationFailed` naming the first bad seq, or return what was checked."""
    started = time.perf_counter()
    run = _Replay(heads, leaves)
    step = run.event
    for row in events:
        step(row)
    run.finish(require_covered=require_covered)
    return Verified(run.tree.size, run.tree.root(), len(heads), run.last_seq,
                    time.perf_counter() - started)
