"""Facet key columns (migration 0026): each key's elements are also text columns,
``value_<position>``, filled by the database from the key whoever adds it (the backfill,
the asset triggers); the keyed facet counts read them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate
from modelatlas.store.tables import FACET_KEY_POSITIONS, facet_key_values

COLUMNS = [facet_key_values.c[f"value_{p}"] for p in range(FACET_KEY_POSITIONS)]


def test_columns_hold_the_key_elements(org: Registry) -> None:
    """A key added by a write (a namespace no key held before) gets its columns too."""
    org.create_asset(AssetCreate(ref="run:new-team/train", metadata={"metrics": {"auc": 0.91}}))
    with org.db.read() as conn:
        rows = conn.execute(sa.select(facet_key_values.c.key, *COLUMNS)).all()
    assert any(json.loads(key)[1] == "new-team" for key, *_ in rows)
    for key, *values in rows:
        assert values == json.loads(key)
    found = org.search("kind:run namespace:new-team metrics.auc>=0.9",
                       facets=["auc"], limit=1).facets["auc"]
    assert [(v.value, v.count) for v in found] == [("0.9-0.95", 1)]
