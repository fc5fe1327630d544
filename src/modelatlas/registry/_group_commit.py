"""Group commit: concurrent small writes share one write transaction and one commit.

SQLite has one writer and every commit waits for the disk (``synchronous=FULL``): a
request of one OpenLineage event spends most of its time, and a good part of its CPU, in
opening and committing its transaction. Requests that arrive together are therefore run
in one transaction, each in its own savepoint, and committed once:

* a request prepares its work first (validation, mapping) outside the group, so a bad
  body is refused without waiting on anyone;
* the first request to find no group running leads one: it waits at most ``max_wait``
  seconds, and only while other requests are still preparing, for up to ``max_group``
  requests, runs them in arrival order and commits; then it hands the lead to the first
  request queued meanwhile and returns its own answer;
* a request whose work raises is rolled back to its savepoint, with the events it emitted,
  and gets its own error; the others are unaffected;
* a conflict with another process (``retry_on``) rolls the whole transaction back and the
  group runs again (three times at most, then :class:`Conflict` to each);
* every request gets its answer only after the commit that holds its writes, so nothing
  here is the only copy of any state: a process that dies loses only unanswered requests.

Requests with different actors never share a transaction (an event records its actor).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from modelatlas.errors import Conflict
from modelatlas.registry._tx import WriteTx

R = TypeVar("R")
Work = Callable[[WriteTx], R]


class _Request(Generic[R]):
    __slots__ = ("actor", "error", "lead", "result", "settled", "wake", "work")

    def __init__(self, work: Work[R], actor: str | None) -> None:
        self.work, self.actor = work, actor
        self.result: R | None = None
        self.error: BaseException | None = None
        self.settled = False  # has its answer (a result or its own error)
        self.lead = False  # woken to lead the next group rather than with an answer
        self.wake = threading.Event()

    def answer(self) -> R:
        if not self.settled:  # only if the leader was interrupted (KeyboardInterrupt)
            raise Conflict("the request's group did not finish; retry")
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when settled without error


class GroupCommit(Generic[R]):
    """One per registry and process; see the module doc. ``open_tx(actor)`` is the
    registry's write transaction (it appends the events before committing)."""

    def __init__(
        self,
        open_tx: Callable[[str | None], AbstractContextManager[WriteTx]],
        *,
        retry_on: tuple[type[BaseException], ...],
        max_group: int = 64,
        max_wait: float = 0.002,
    ) -> None:
        self._open_tx = open_tx
        self._retry_on = retry_on
        self.max_group = max_group
        self.max_wait = max_wait
        self._cond = threading.Condition()
        self._queue: deque[_Request[R]] = deque()
        self._leading = False
        self._preparing = 0
        self.groups = 0  # transactions committed: how well requests were grouped

    def submit(self, prepare: Callable[[], Work[R]], actor: str | None) -> R:
        """Run ``prepare()`` here, then the work it returns inside a group; return the
        work's result after the group's commit (or raise its own error)."""
        with self._cond:
            self._preparing += 1
        try:
            work = prepare()
        except BaseException:
            with self._cond:
                self._preparing -= 1
                self._cond.notify_all()
            raise
        request = _Request(work, actor)
        with self._cond:
            self._preparing -= 1
            self._queue.append(request)
            lead = not self._leading
            self._leading = True
            self._cond.notify_all()
        if not lead:
            request.wake.wait()
        if lead or request.lead:
            self._lead()
        return request.answer()

    def _lead(self) -> None:
        with self._cond:
            # wait only for requests known to be coming, and never long
            deadline = time.monotonic() + self.max_wait
            while self._preparing and len(self._queue) < self.max_group:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    break
            group = [self._queue.popleft() for _ in range(min(len(self._queue),
                                                                self.max_group))]
        try:
            by_actor: dict[str | None, list[_Request[R]]] = {}
            for request in group:
                by_actor.setdefault(request.actor, []).append(request)
            for actor, requests in by_actor.items():
                self._commit(actor, requests)
        finally:
            with self._cond:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._leading = False
            for request in group:
                request.wake.set()

    def _commit(self, actor: str | None, requests: list[_Request[R]]) -> None:
        for _attempt in range(3):
            pending = [r for r in requests if not r.settled]
            if not pending:
                return
            try:
                with self._open_tx(actor) as tx:
                    done = [(r, *self._run(tx, r)) for r in pending]
            except self._retry_on:
                continue  # another process wrote the same rows: run the group again
            except Exception as exc:  # the commit failed: no request's writes are kept
                for request in pending:
                    request.error, request.settled = exc, True
                return
            self.groups += 1
            for request, ok, value in done:
                if ok:
                    request.result = value
                else:
                    request.error = value
                request.settled = True
            return
        for request in requests:
            if not request.settled:
                request.error = Conflict("the assets of this request are being written "
                                         "concurrently; retry")
                request.settled = True

    def _run(self, tx: WriteTx, request: _Request[R]) -> tuple[bool, Any]:
        """One request in its savepoint: (True, result) or (False, its own error); a
        ``retry_on`` error propagates and takes the whole group back."""
        emitted = len(tx.pending)
        _savepoint(tx, "SAVEPOINT ma_request")
        try:
            result = request.work(tx)
        except self._retry_on:
            raise
        except Exception as exc:
            _savepoint(tx, "ROLLBACK TO SAVEPOINT ma_request")
            _savepoint(tx, "RELEASE SAVEPOINT ma_request")
            del tx.pending[emitted:]  # its events go with its writes
            return False, exc
        _savepoint(tx, "RELEASE SAVEPOINT ma_request")
        return True, result


def _savepoint(tx: WriteTx, sql: str) -> None:
    """Savepoints on the driver's connection, as the request's statements run (through
    ``Connection.begin_nested`` a savepoint costs ten times as much); the same SQL on
    SQLite and PostgreSQL."""
    cursor = tx.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
