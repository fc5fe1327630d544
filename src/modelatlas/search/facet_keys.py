"""Facet keys (migration 0025): each metric row of ``asset_metrics`` names its asset's
single-valued facet values, one JSON array stored once in ``facet_key_values``, by id
(``facet_key``), kept by the database's triggers.
A search whose hits are one scoped metric range counts those facets from the range's keys
without reading an asset row. The keys hold the facets as the triggers were written for
(the ``facet_keys`` table); a facet whose configuration has changed since is counted from
the asset rows instead, so counts stay exact whatever ``facets.yaml`` says."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.search.facets import FacetSpec
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import facet_key_values, facet_keys

# counted next to the keys without an asset row: tags from the hit's id, datasets from the
# hit's set of run inputs (``asset_metrics.dataset_key``)
BY_ID = frozenset({"tag", "dataset"})


def spec_json(spec: FacetSpec) -> dict[str, Any]:
    """A facet's configuration as ``facet_keys.spec`` records it."""
    out: dict[str, Any] = {"type": spec.type}
    if spec.type == "column":
        out["column"] = spec.column
    else:
        out["path"] = list(spec.path)
    if spec.type == "buckets":
        out["bounds"] = [float(bound) for bound in spec.bounds]
    return out


def key_positions(conn: Connection, specs: dict[str, FacetSpec]) -> dict[str, int] | None:
    """Where each of ``specs`` sits in the keys, when every one of them is either in the
    keys as configured (with a column in ``facet_key_values``, 0026) or counted by hit
    id; None when one is neither (the owners, or a facet added or changed since the keys
    were written)."""
    keyed = [name for name, spec in specs.items() if spec.type not in BY_ID]
    if not keyed:
        return None  # nothing read from the asset rows: the usual path costs the same
    # read each search (a migration may rewrite the keys), on the driver's cursor: a few
    # rows, where SQLAlchemy's execution and a JSON decode per row cost a millisecond
    cursor = _STORED.execute(conn, {})
    try:
        stored = {facet: (int(position), spec) for facet, position, spec in cursor}
    finally:
        cursor.close()
    positions = {}
    for name in keyed:
        position, spec = stored.get(name, (-1, ""))
        if _agrees(spec, specs[name]) and f"value_{position}" in facet_key_values.c:
            positions[name] = position
    return positions if len(positions) == len(keyed) else None


_STORED = Prepared(sa.select(facet_keys.c.facet, facet_keys.c.position, facet_keys.c.spec))


@lru_cache(maxsize=256)
def _agrees(stored: str, spec: FacetSpec) -> bool:
    """``facet_keys.spec`` as stored (JSON text) records ``spec``."""
    return bool(stored) and json.loads(stored) == spec_json(spec)
