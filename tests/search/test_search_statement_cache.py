"""The facet statement over keyed hits is built once per shape (search/facets.py) and later
calls bind their own values into it: the query's values and the caller's read rule. A warm
entry must answer each call with that call's counts, which the row path (asking for the
owners facet too, never cached) counts independently, on SQLite and PostgreSQL."""

from __future__ import annotations

from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.search import facets as facet_module

WANTED = ["framework", "task", "state", "auc", "dataset", "tag"]
Counts = dict[str, list[tuple[str, int]]]


def _counts(registry: Registry, q: str, principal: Principal | None = None,
            owners: bool = False) -> Counts:
    wanted = [*WANTED, "owner"] if owners else WANTED
    found = registry.search(q, facets=wanted, limit=1, principal=principal).facets
    found.pop("owner", None)
    return {name: [(v.value, v.count) for v in values] for name, values in found.items()}


def _warm(registry: Registry, q: str, principal: Principal | None = None) -> Counts:
    """``q``'s keyed counts from an entry already there, checked against the row path."""
    shapes = set(facet_module._KEYED_STATEMENTS.entries)
    keyed = _counts(registry, q, principal)
    # the same shapes (not only as many: a new one would evict another from a full cache)
    assert set(facet_module._KEYED_STATEMENTS.entries) == shapes  # no new shape: a hit
    assert keyed == _counts(registry, q, principal, owners=True)
    return keyed


def test_same_shape_binds_its_own_values(org: Registry) -> None:
    first = "kind:model_version namespace:fraud metrics.auc>=0.5"
    cold = _counts(org, first)
    assert cold["framework"] == [("xgboost", 2), ("lightgbm", 1), ("pytorch", 1)]
    higher = _warm(org, "kind:model_version namespace:fraud metrics.auc>=0.85")
    growth = _warm(org, "kind:model_version namespace:growth metrics.auc>=0.5")
    assert higher != cold and growth != cold
    assert _warm(org, first) == cold


def test_each_caller_binds_its_own_read_rule(org: Registry,
                                             readers: tuple[Principal, Principal]) -> None:
    q = "kind:model_version namespace:fraud metrics.auc>=0.5"
    vic, una = readers
    _counts(org, q, una)  # the shape's entry, built for una
    seen = _warm(org, q, vic)
    assert seen["dataset"] == [("dataset:finance/transactions@3", 1),
                               ("dataset:finance/txn-clean@1", 1)]
    assert _warm(org, q, una)["dataset"] == []
    assert _warm(org, q, vic) == seen
