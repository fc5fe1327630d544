"""A batch of usage signals, added up and written in one upsert per table, leaves the
rows that writing its signals one by one leaves, whatever their times and order."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from modelatlas.registry import AssetCreate, Registry
from modelatlas.search import usage
from modelatlas.store.tables import asset_usage, assets, term_usage

DAY = usage.DAY
T0 = 20_000 * DAY


def _rows(registry: Registry) -> dict[object, tuple[float, float]]:
    with registry.db.read() as conn:
        found: dict[object, tuple[float, float]] = {
            row.asset_id: (row.score, row.touched_at)
            for row in conn.execute(sa.select(asset_usage))}
        found.update({row.term: (row.score, row.touched_at)
                      for row in conn.execute(sa.select(term_usage))})
    return found


def _reset(registry: Registry, half_life_days: float, stored: int) -> None:
    """Empty usage, then one stored row each for an asset and a term, as of T0."""
    with registry.db.write() as conn:
        conn.execute(asset_usage.delete())
        conn.execute(term_usage.delete())
        usage.record(conn, assets={stored: 4.0}, terms={"tag:pii": 4.0}, at=T0,
                     half_life_days=half_life_days)


def test_a_batch_equals_its_signals_one_by_one(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="model:fraud/churn"))
    registry.create_asset(AssetCreate(ref="model:fraud/ltv"))
    with registry.db.read() as conn:
        ids = {row.name: int(row.id) for row in conn.execute(sa.select(assets.c.id, assets.c.name))}
    old, new = ids["churn"], ids["ltv"]
    # older and newer than the stored rows, out of order, one 2000 half-lives back
    half_life = registry.settings.usage_half_life_days
    batch = [
        usage.Signals(T0 - 3 * DAY, {old: 1.0, new: 2.0}, {"tag:pii": 1.0}),
        usage.Signals(T0 + 2 * DAY, {old: 3.0}, {"tag:pii": 2.0, "field:tag:": 1.0}),
        usage.Signals(T0 + 1 * DAY, {new: 1.0}, {"field:tag:": 3.0}),
        usage.Signals(T0 - 2000 * half_life * DAY, {old: 5.0}, {}),
        usage.Signals(T0 + 2 * DAY, {old: 1.0}, {}),
    ]
    _reset(registry, half_life, old)
    for signals in batch:
        with registry.db.write() as conn:
            usage.record(conn, assets=signals.assets, terms=signals.terms, at=signals.at,
                         half_life_days=half_life)
    one_by_one = _rows(registry)
    _reset(registry, half_life, old)
    with registry.db.write() as conn:
        usage.record_batch(conn, batch, half_life_days=half_life)
    batched = _rows(registry)
    assert batched.keys() == one_by_one.keys() == {old, new, "tag:pii", "field:tag:"}
    for key, (score, touched) in one_by_one.items():
        assert batched[key] == (pytest.approx(score, rel=1e-12), touched)
    assert one_by_one[old][1] == T0 + 2 * DAY  # the newest time is kept
