"""The cyclic garbage collector held off while a large answer is built (a lineage walk, a
log verification).

A 10k-node lineage walk allocates some 60,000 containers (the driver's row tuples, the rows sliced
from them, then a wire object per node and per edge), none in a cycle and most dead before
the answer leaves the service. Each 700 allocations start a young collection that
re-examines what the walk still holds, and the survivors promoted to the oldest generation
start a full collection every second call, which walks every object the process holds
(~100 ms with pydantic and SQLAlchemy loaded, unless the program froze them as `modelatlas
serve` does; a library caller has not): measured on the 1M-asset benchmark, collections
were a third of a call's CPU and the whole gap between its p50 and p95.

Paused, the rows die by reference counting before any collection sees them, and the one
young collection that runs after the pause sees only the answer. Collection is only
deferred, never skipped: allocations keep counting, so the first one after the pause
collects whatever is due. Pauses nest and overlap across threads (a server answers walks
on several): the collector comes back when the last one ends, and only if it was on when
the first began (a program that turned it off keeps it off). Walks that keep overlapping
would keep it off for good, and every other thread's cyclic garbage with it: a pause that
ends after the collector has been off for :data:`MAX_DEFERRAL_S` collects once, there and
then, before leaving it off for the others.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Longest the collector stays off while pauses overlap: several large walks' worth
MAX_DEFERRAL_S = 1.0


class _Pauses:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.restore = False
        self.since = 0.0  # when the collector went off (time.monotonic)

    def enter(self) -> None:
        with self.lock:
            if self.holders == 0:
                self.restore = gc.isenabled()
                self.since = time.monotonic()
                gc.disable()
            self.holders += 1

    def leave(self) -> None:
        with self.lock:
            self.holders -= 1
            overdue = (self.holders > 0 and self.restore
                       and time.monotonic() - self.since > MAX_DEFERRAL_S)
            if self.holders == 0 and self.restore:
                gc.enable()
            elif overdue:
                self.since = time.monotonic()
        if overdue:
            # outside the lock: a finalizer the collection runs may itself walk lineage
            gc.collect()  # collect() runs with the collector off too


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block (see the module's docstring)."""
    _PAUSES.enter()
    try:
        yield
    finally:
        _PAUSES.leave()
