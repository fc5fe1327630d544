"""A cursor page starts where its cursor points: the page's index range begins at the first
sort key's value, so page 50 costs what page 1 costs (keyset paging, not a scan from the
first row). SQLite derives that start from the keyset's OR only when the values are
literals; the statement binds them, so the start is stated on its own."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from modelatlas.registry import AssetCreate, Registry
from modelatlas.store import prepared


def _created(registry: Registry) -> list[str]:
    refs = [f"dataset:team/data-{n % 7}@{n}" for n in range(1, 43)]
    for ref in refs:  # seven names, six versions each: page ends fall inside a name
        registry.create_asset(AssetCreate(ref=ref))
    return refs


def _pages(registry: Registry, sort: str) -> list[str]:
    seen, cursor = [], None
    while True:
        page = registry.search("kind:dataset", sort=sort, facets=[], limit=5,
                               cursor=cursor)
        seen += [asset.ref for asset in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("sort", ["name", "-name", "created", "-metrics.auc", "relevance"])
def test_paging_by_any_order_returns_every_hit_once(registry: Registry, sort: str) -> None:
    refs = _created(registry)
    seen = _pages(registry, sort)
    assert sorted(seen) == sorted(refs)


def test_a_name_cursor_page_starts_its_index_range_at_the_cursor(
        registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    if registry.db.dialect != "sqlite":
        pytest.skip("the plan asked for is SQLite's")
    _created(registry)
    first = registry.search("kind:dataset", sort="name", facets=[], limit=5)
    ran: list[tuple[str, Any]] = []
    real = prepared._run

    def capture(conn: Any, method: Any, sql: str, params: Any) -> None:
        ran.append((sql, params))
        real(conn, method, sql, params)

    monkeypatch.setattr(prepared, "_run", capture)
    registry.search("kind:dataset", sort="name", facets=[], limit=5,
                    cursor=first.next_cursor)
    sql, params = next((s, p) for s, p in ran if "sort_0" in s)
    assert "?" in sql  # the values are bound, as every page runs
    with sqlite3.connect(str(registry.db.url.database)) as conn:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "name>?" in plan, plan
