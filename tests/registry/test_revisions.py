"""Optimistic concurrency (expected_revision) and idempotency keys at the service layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from modelatlas.errors import Conflict, ModelAtlasError, PreconditionFailed
from modelatlas.registry import (
    AssetCreate,
    AssetUpdate,
    InlineAsset,
    Registry,
    VersionRegistration,
)
from modelatlas.store.tables import assets, events

REF = "dataset:finance/transactions@1"


def event_count(registry: Registry) -> int:
    with registry.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


def test_stale_revision_is_refused_and_writes_nothing(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF, description="first"))
    registry.update_asset(REF, AssetUpdate(description="second"), expected_revision=1)
    before = event_count(registry)
    with pytest.raises(PreconditionFailed) as caught:
        registry.update_asset(REF, AssetUpdate(description="stale"), expected_revision=1)
    assert caught.value.status == 412
    assert [e.path for e in caught.value.errors] == ["/revision"]
    asset = registry.get_asset(REF)
    assert (asset.description, asset.revision) == ("second", 2)
    assert event_count(registry) == before


def race(n: int, attempt: Callable[[int], object]) -> tuple[list[object], list[Exception]]:
    """Run ``attempt(i)`` on ``n`` threads released together; return results and errors."""
    barrier = threading.Barrier(n)
    results: list[object] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            value = attempt(i)
        except Exception as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_racing_updates_of_one_revision_exactly_one_wins(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF))
    for revision in range(1, 6):
        results, errors = race(
            6,
            lambda i, rev=revision: registry.update_asset(
                REF, AssetUpdate(description=f"writer {i}"), expected_revision=rev
            ),
        )
        assert len(results) == 1, f"round {revision}: {len(results)} writers won"
        assert all(isinstance(e, PreconditionFailed) for e in errors), errors
    asset = registry.get_asset(REF)
    assert asset.revision == 6
    updates = [e for e in registry.history(REF).items if e.action == "asset.updated"]
    assert [e.payload["revision"] for e in updates] == [2, 3, 4, 5, 6]


def test_update_waiting_on_a_concurrent_writer_sees_its_revision(registry: Registry) -> None:
    """Deterministic form of the race: another transaction moves the asset to revision 2
    while our update (expecting 1) is in flight; ours must fail, not report success.

    On PostgreSQL the service reads the row without locking it, so its guarded UPDATE
    blocks on the other writer, then matches no row, and the service still appends an
    ``asset.updated`` event and returns the other writer's asset as if it had applied.
    """
    registry.create_asset(AssetCreate(ref=REF, description="first"))
    outcome: list[object] = []
    with registry.db.write() as other:
        other.execute(
            assets.update().where(assets.c.name == "transactions")
            .values(revision=assets.c.revision + 1, description="other writer")
        )
        worker = threading.Thread(target=lambda: outcome.append(_attempt(registry)))
        worker.start()
        time.sleep(0.5)  # let the update reach the lock the other transaction holds
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], PreconditionFailed), outcome
    assert [e.action for e in registry.history(REF).items] == ["asset.created"]
    assert registry.get_asset(REF).description == "other writer"


def _attempt(registry: Registry) -> object:
    try:
        return registry.update_asset(REF, AssetUpdate(description="mine"), expected_revision=1)
    except ModelAtlasError as exc:
        return exc


def registration() -> VersionRegistration:
    return VersionRegistration(
        metadata={"framework": "sklearn"},
        datasets=[InlineAsset(ref=REF, metadata={"row_count": 5})],
    )


def test_retried_registration_returns_the_first_result_and_writes_once(
    registry: Registry,
) -> None:
    first = registry.register_version("fraud", "churn", registration(), idempotency_key="job-1")
    written = event_count(registry)
    retry = registry.register_version("fraud", "churn", registration(), idempotency_key="job-1")
    assert retry == first
    assert event_count(registry) == written
    assert [a.ref for a in registry.list_versions("fraud", "churn").items] == [
        "model_version:fraud/churn@1"
    ]
    other = registry.register_version("fraud", "churn", registration(), idempotency_key="job-2")
    assert other.model_version.ref == "model_version:fraud/churn@2"


def test_reused_key_with_a_different_request_is_a_conflict(registry: Registry) -> None:
    registry.register_version("fraud", "churn", registration(), idempotency_key="job-1")
    written = event_count(registry)
    changed = registration()
    changed.metadata = {"framework": "xgboost"}
    with pytest.raises(Conflict) as caught:
        registry.register_version("fraud", "churn", changed, idempotency_key="job-1")
    assert caught.value.status == 409
    with pytest.raises(Conflict):
        registry.register_version("fraud", "other", registration(), idempotency_key="job-1")
    assert event_count(registry) == written


def test_concurrent_retries_with_one_key_write_once(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF))
    # The model exists, so this races only the key (creating a model concurrently is
    # tests/store/test_concurrent_versions.py's business).
    registry.create_asset(AssetCreate(ref="model:fraud/churn"))
    last_seq = registry.events(limit=500).items[-1].seq
    results, errors = race(
        5,
        lambda _i: registry.register_version(
            "fraud", "churn", VersionRegistration(datasets=[REF]), idempotency_key="job-9"
        ),
    )
    assert not errors, errors
    refs = {r.model_version.ref for r in results}  # type: ignore[attr-defined]
    assert refs == {"model_version:fraud/churn@1"}
    assert [a.ref for a in registry.list_versions("fraud", "churn").items] == [
        "model_version:fraud/churn@1"
    ]
    run_ref = "run:fraud/churn-v1"
    assert [e.action for e in registry.events(after=last_seq).items] == [
        "model_version.registered", "relation.added", "asset.created", "relation.added",
        "relation.added",
    ], "one registration: version, version_of, run, used, produced"
    assert registry.get_asset(run_ref).revision == 1
