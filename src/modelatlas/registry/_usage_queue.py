"""Usage signals that reads trigger, written behind the read by one background thread.

A search or an asset read must not wait for a write transaction (on SQLite: the one
writer lock and an fsync) just to teach the ranking something. Triggered signals go on a
bounded queue; a daemon thread writes them in batches, one transaction per batch. The
signals are ranking hints, not records: the audit trail is the event log, so a signal
still queued when the process is killed is lost, and a full queue drops (and logs) new
ones rather than slow the read. Explicit signals (``record_usage``) stay synchronous.
Readers of usage (suggest, related) flush first, so a process reads its own signals.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("modelatlas.usage")

Signal = tuple[Any, ...]
MAX_PENDING = 10_000
MAX_BATCH = 500
# How long the writer gathers signals before it writes them: a busy server then spends
# one transaction on many searches instead of one per search (which took as much CPU as
# the searches themselves on a 2-core machine). A flush cuts the wait short.
LINGER_SECONDS = 0.25
_STOP: Signal = ()


class UsageQueue:
    def __init__(self, write: Callable[[list[Signal]], None]) -> None:
        self._write = write
        self._queue: queue.Queue[Signal] = queue.Queue(maxsize=MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._hurry = threading.Event()

    def put(self, signal: Signal) -> None:
        self._start()
        try:
            self._queue.put_nowait(signal)
        except queue.Full:
            logger.warning("usage queue full: dropped a %s signal", signal[0])

    def flush(self) -> None:
        """Wait until every signal queued so far is written (or failed and was logged)."""
        if self._thread is not None:
            self._hurry.set()
            self._queue.join()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            self._hurry.set()
            thread.join(timeout=30)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="modelatlas-usage", daemon=True
                )
                self._thread.start()

    def _gather(self) -> list[Signal]:
        """The next batch: what arrived within LINGER_SECONDS of the first signal, up to
        MAX_BATCH, or less when a flush or close is waiting. The writer sleeps through the
        linger on the hurry event, not on the queue: waiting on the queue woke this thread
        at every search's signal, and each wake took the GIL from the searches (~0.1 ms a
        search on a 2-core machine)."""
        batch = [self._queue.get()]
        if batch[0] != _STOP and self._queue.qsize() < MAX_BATCH - 1:
            self._hurry.wait(LINGER_SECONDS)  # set by a flush or close: cut short
        while len(batch) < MAX_BATCH and batch[-1] != _STOP:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if self._queue.empty():
                self._hurry.clear()
            signals = [s for s in batch if s != _STOP]
            try:
                if signals:
                    self._write(signals)
            except Exception:
                logger.warning("could not record %d usage signals", len(signals), exc_info=True)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(signals) != len(batch):
                return
