"""The webhook worker: reads the event log, queues a delivery per (webhook, event) and
POSTs each, signed, with retries. All its state is in the database (the cursor, the queue,
the leases), so any number of workers in any number of processes may run: each event is
queued once (the cursor row is locked while a batch is queued, and (webhook, event) is
unique) and each delivery attempt is made by one worker (a claim is an UPDATE that only
one worker's WHERE can match).

One :meth:`WebhookWorker.step` queues what is new and attempts what is due; ``now`` can be
passed so tests drive the retry schedule without waiting.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.config import Settings
from modelatlas.notify import TargetRefused, resolve_target, sign
from modelatlas.notify.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from modelatlas.notify.subscriptions import SUBSCRIBABLE, event_type_of, namespace_of, subscribed
from modelatlas.store.engine import Database
from modelatlas.store.tables import events, webhook_cursor, webhook_deliveries, webhooks

logger = logging.getLogger("modelatlas.webhooks")

BATCH = 500  # events scanned per queueing transaction
CLAIM = 20  # deliveries attempted per step
DUE = ("pending", "failed", "delivering")  # delivering: only once its lease has run out
USER_AGENT = "ModelAtlas-Webhooks/1"


def stamp(moment: datetime) -> str:
    """A time as the tables store it (ISO 8601 UTC, microseconds, ``Z``: sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StepResult:
    queued: int
    attempted: int
    delivered: int


class WebhookWorker:
    """Delivers webhooks from one database. Thread-safe to run several (one per thread)."""

    def __init__(self, db: Database, settings: Settings, *,
                 http: httpx.Client | None = None) -> None:
        self.db = db
        self.settings = settings
        self.schedule = _schedule(settings.webhook_retry_seconds)
        self.lease = timedelta(seconds=max(60.0, 4 * settings.webhook_timeout_seconds))
        self.http = http or httpx.Client(timeout=settings.webhook_timeout_seconds,
                                         follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self.http.close()

    # the loop -----------------------------------------------------------------------------
    def step(self, now: datetime | None = None) -> StepResult:
        """Queue what the log holds that is new, then attempt the deliveries due."""
        queued, at = 0, now or datetime.now(UTC)
        while True:
            added, caught_up = self.enqueue(at)
            queued += added
            if caught_up:
                break
        attempted = delivered = 0
        for delivery_id, lease in self.claim(at):
            attempted += 1
            delivered += self.attempt(delivery_id, lease, now or datetime.now(UTC))
        return StepResult(queued, attempted, delivered)

    def run(self, stop: threading.Event) -> None:
        """Step every ``webhook_poll_seconds`` until ``stop`` is set. An error (the database
        gone for a moment) is logged and the loop goes on: the state is in the database."""
        while not stop.is_set():
            try:
                result = self.step()
            except Exception:
                logger.exception("webhook worker step failed; retrying")
                result = StepResult(0, 0, 0)
            if result.attempted < CLAIM:  # a full claim: more may be due at once
                stop.wait(self.settings.webhook_poll_seconds)

    # queueing -----------------------------------------------------------------------------
    def enqueue(self, now: datetime | None = None) -> tuple[int, bool]:
        """Queue deliveries, due at ``now``, for one batch of new events: (how many,
        caught up?). The cursor moves in the same transaction, under a lock, so no event
        is queued twice."""
        with self.db.write() as conn:
            last = conn.execute(sa.select(webhook_cursor.c.last_seq)
                                .where(webhook_cursor.c.id == 1).with_for_update()).scalar()
            newest = int(conn.execute(sa.select(sa.func.max(events.c.seq))).scalar() or 0)
            hooks = conn.execute(sa.select(webhooks.c.id, webhooks.c.namespace,
                                           webhooks.c.event_types, webhooks.c.after_seq)
                                 .where(webhooks.c.active.is_(True))).all()
            start = int(last or 0)
            if hooks:  # nothing before the oldest webhook can be for anyone
                start = max(start, min(int(h.after_seq) for h in hooks))
            rows = [] if not hooks else conn.execute(
                sa.select(events.c.seq, events.c.action, events.c.ref)
                .where(events.c.seq > start, events.c.seq <= newest,
                       events.c.action.in_(sorted(SUBSCRIBABLE)))
                .order_by(events.c.seq).limit(BATCH)).all()
            full = len(rows) == BATCH
            queued = _queue(conn, rows, hooks, stamp(now or datetime.now(UTC)))
            reached = rows[-1].seq if full else max(newest, start)
            _advance(conn, last, reached)
        return queued, not full

    # claiming and attempting -------------------------------------------------------------
    def claim(self, now: datetime) -> list[tuple[int, str]]:
        """Take up to ``CLAIM`` due deliveries: (id, lease) of each this worker won."""
        table, at = webhook_deliveries, stamp(now)
        due = (table.c.status.in_(DUE) & (table.c.next_attempt_at <= at)
               & (table.c.lease_until.is_(None) | (table.c.lease_until < at)))
        with self.db.read() as conn:
            ids = conn.execute(sa.select(table.c.id).where(due)
                               .order_by(table.c.next_attempt_at, table.c.id).limit(CLAIM)
                               ).scalars().all()
        won = []
        lease = stamp(now + self.lease)
        for delivery_id in ids:
            with self.db.write() as conn:
                taken = conn.execute(
                    table.update().where(table.c.id == delivery_id, due)
                    .values(status="delivering", lease_until=lease,
                            attempts=table.c.attempts + 1)).rowcount
            if taken == 1:  # 0: another worker claimed it between our read and our write
                won.append((delivery_id, lease))
        return won

    def attempt(self, delivery_id: int, lease: str, now: datetime) -> bool:
        """POST one claimed delivery and record the outcome; True when delivered."""
        with self.db.read() as conn:
            found = _load(conn, delivery_id)
        if found is None:
            return False  # its webhook was deleted meanwhile
        delivery, hook, event = found
        if not hook["active"]:
            self._record(delivery_id, lease, now, None, "the webhook was paused", final=True)
            return False
        code, error = self._post(delivery, hook, event)
        ok = code is not None and 200 <= code < 300
        final = ok or delivery["attempts"] >= self.settings.webhook_max_attempts
        self._record(delivery_id, lease, now, code, None if ok else error, final=final,
                     attempts=delivery["attempts"], ok=ok)
        return ok

    def _post(self, delivery: Any, hook: Any, event: Any) -> tuple[int | None, str]:
        permitted = hook["allow_private"] and self.settings.webhook_allow_private
        try:
            target = resolve_target(hook["url"], allow_private=permitted)
        except TargetRefused as exc:
            return None, f"target refused: {exc.reason}"[:500]
        body = json.dumps(_event_body(event), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
        sent_at = int(time.time())
        port = httpx.URL(target.url).port
        headers = {
            "Host": target.host if port is None else f"{target.host}:{port}",
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            EVENT_HEADER: delivery["event_type"], DELIVERY_HEADER: str(delivery["id"]),
            TIMESTAMP_HEADER: str(sent_at), SIGNATURE_HEADER: sign(hook["secret"], sent_at,
                                                                   body),
        }
        try:
            # to the address that was checked; TLS still verifies the name (SNI)
            response = self.http.post(target.pinned_url(), content=body, headers=headers,
                                      extensions={"sni_hostname": target.host})
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, f"the receiver answered {response.status_code}"

    def _record(self, delivery_id: int, lease: str, now: datetime, code: int | None,
                error: str | None, *, final: bool, attempts: int = 0,
                ok: bool = False) -> None:
        values: dict[str, Any] = {"lease_until": None, "last_status_code": code,
                                  "last_error": error}
        if ok:
            values.update(status="delivered", delivered_at=stamp(now))
        elif final:
            values.update(status="dead")
        else:
            values.update(status="failed", next_attempt_at=stamp(now + self.backoff(attempts)))
        table = webhook_deliveries
        with self.db.write() as conn:
            # only while the lease is ours: a worker that overran it must not overwrite
            conn.execute(table.update().where(table.c.id == delivery_id,
                                              table.c.lease_until == lease).values(**values))

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt, with up to 20% jitter so
        receivers that failed together are not retried together."""
        base = self.schedule[min(attempts, len(self.schedule)) - 1]
        return timedelta(seconds=base * random.uniform(1.0, 1.2))


def _schedule(text: str) -> list[float]:
    delays = [float(part) for part in text.split(",") if part.strip()]
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("MODELATLAS_WEBHOOK_RETRY_SECONDS: positive seconds, comma-separated")
    return delays


def _queue(conn: Connection, rows: Sequence[Any], hooks: Sequence[Any], now: str) -> int:
    queued = []
    for row in rows:
        namespace = namespace_of(row.ref)
        for hook in hooks:
            if (hook.namespace == namespace and row.seq > hook.after_seq
                    and subscribed(hook.event_types, row.action)):
                queued.append({"webhook_id": hook.id, "event_seq": row.seq,
                               "event_type": event_type_of(row.action), "status": "pending",
                               "attempts": 0, "next_attempt_at": now, "created_at": now})
    if queued:
        conn.execute(webhook_deliveries.insert(), queued)
    return len(queued)


def _advance(conn: Connection, last: int | None, reached: int) -> None:
    if last is None:  # the row the migration seeds is gone: put it back
        conn.execute(webhook_cursor.insert().values(id=1, last_seq=reached,
                                                    updated_at=stamp(datetime.now(UTC))))
    elif reached > last:
        conn.execute(webhook_cursor.update().where(webhook_cursor.c.id == 1)
                     .values(last_seq=reached, updated_at=stamp(datetime.now(UTC))))


def _load(conn: Connection, delivery_id: int) -> tuple[Any, Any, Any] | None:
    delivery = conn.execute(sa.select(webhook_deliveries)
                            .where(webhook_deliveries.c.id == delivery_id)).mappings().first()
    if delivery is None:
        return None
    hook = conn.execute(sa.select(webhooks).where(webhooks.c.id == delivery["webhook_id"])
                        ).mappings().first()
    event = conn.execute(sa.select(events).where(events.c.seq == delivery["event_seq"])
                         ).mappings().first()
    if hook is None or event is None:
        return None
    return delivery, hook, event


def _event_body(event: Any) -> dict[str, Any]:
    """What a receiver is sent: the event as the ``/events`` feed shows it."""
    return {"seq": event["seq"], "time": event["time"], "actor": event["actor"],
            "action": event["action"], "ref": event["ref"],
            "payload": json.loads(event["payload"]),
            "payload_sha256": event["payload_sha256"]}


@contextmanager
def in_background(db: Database, settings: Settings) -> Iterator[None]:
    """A worker in a daemon thread while the block runs (what ``modelatlas serve`` does)."""
    worker, stop = WebhookWorker(db, settings), threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="webhook-worker",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=settings.webhook_timeout_seconds + 5)
        worker.close()
