"""Triggered usage signals are written behind the read that triggered them, and none is
lost by a flush or an orderly close."""

from __future__ import annotations

import time

import sqlalchemy as sa

from modelatlas.config import Settings
from modelatlas.registry import AssetCreate, Registry
from modelatlas.registry._usage_queue import LINGER_SECONDS, MAX_BATCH, UsageQueue
from modelatlas.store.tables import asset_usage, term_usage


def _scores(registry: Registry) -> tuple[int, int]:
    with registry.db.read() as conn:
        assets = conn.execute(sa.select(sa.func.count()).select_from(asset_usage)).scalar_one()
        terms = conn.execute(sa.select(sa.func.count()).select_from(term_usage)).scalar_one()
    return int(assets), int(terms)


def test_a_search_is_recorded_after_a_flush(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:finance/transactions@3"))
    registry.search("trained_on:dataset:finance/transactions@3 tag:pii")
    registry.flush_usage()
    assets, terms = _scores(registry)
    assert assets == 1 and terms >= 2


def test_close_writes_what_is_queued(settings: Settings) -> None:
    first = Registry.open(settings)
    first.create_asset(AssetCreate(ref="model:fraud/churn"))
    for _ in range(50):
        first.note_usage("opened", ["model:fraud/churn"], ["tag:pii"])
    first.close()
    second = Registry.open(settings)
    try:
        assert _scores(second) == (1, 1)
        with second.db.read() as conn:
            score = conn.execute(sa.select(asset_usage.c.score)).scalar_one()
        assert score > 49  # all fifty, barely decayed
    finally:
        second.close()


def _recording() -> tuple[UsageQueue, list[int]]:
    sizes: list[int] = []
    return UsageQueue(lambda signals: sizes.append(len(signals))), sizes


def test_signals_within_the_linger_are_one_write() -> None:
    usage, sizes = _recording()
    try:
        for n in range(40):
            usage.put(("searched", (), (f"term-{n}",), 0.0, None))
        time.sleep(LINGER_SECONDS * 3)  # no flush: the linger alone ends the batch
        assert sizes == [40]
    finally:
        usage.close()


def test_a_full_batch_is_written_without_lingering() -> None:
    usage, sizes = _recording()
    try:
        for n in range(MAX_BATCH * 2 + 5):
            usage.put(("searched", (), (f"term-{n}",), 0.0, None))
        usage.flush()
        assert sum(sizes) == MAX_BATCH * 2 + 5 and max(sizes) <= MAX_BATCH
    finally:
        usage.close()


def test_a_flush_cuts_the_linger_short() -> None:
    usage, sizes = _recording()
    try:
        usage.put(("searched", (), ("term",), 0.0, None))
        started = time.monotonic()
        usage.flush()
        assert sizes == [1] and time.monotonic() - started < LINGER_SECONDS
    finally:
        usage.close()
