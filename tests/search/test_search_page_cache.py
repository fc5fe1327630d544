"""A page statement is compiled once per shape (store/prepared.py ``fetch_shaped``) and
run on the driver's cursor with each call's values: the query's, the cursor's and the
caller's read rule. A warm entry must answer exactly as a cold one does, on SQLite and
PostgreSQL."""

from __future__ import annotations

from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.store import prepared


def _refs(registry: Registry, q: str, principal: Principal | None = None, *,
          cold: bool = False) -> list[str]:
    if cold:
        prepared._SHAPES.entries.clear()
    shapes = set(prepared._SHAPES.entries)
    refs = [a.ref for a in registry.search(q, facets=[], limit=500, principal=principal).items]
    if not cold:
        assert set(prepared._SHAPES.entries) == shapes  # no new shape: the entry answered
    return refs


def test_same_shape_binds_its_own_values(org: Registry) -> None:
    trained = "trained_on:dataset:finance/"
    pairs = ((f"{trained}transactions@3", f"{trained}txn-clean@1"),
             ("namespace:growth", "namespace:fraud"))
    for built, warm in pairs:
        expected = _refs(org, warm, cold=True)
        assert expected and expected != _refs(org, built, cold=True)  # entry built for the other
        assert _refs(org, warm) == expected


def test_each_caller_binds_its_own_read_rule(org: Registry,
                                             readers: tuple[Principal, Principal]) -> None:
    vic, una = readers
    seen = {p.person: _refs(org, "", p, cold=True) for p in (vic, una)}
    assert any(ref.split(":")[1].startswith("finance/") for ref in seen["vic"])
    assert not any(ref.split(":")[1].startswith("finance/") for ref in seen["una"])
    _refs(org, "", una, cold=True)  # the shape's entry, built for una
    assert _refs(org, "", vic) == seen["vic"]
    assert _refs(org, "", una) == seen["una"]
