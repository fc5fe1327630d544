"""A page of hits is built by position from the page's rows (``assets_from_page``) and a
transitive walk's page is read in id order: both must give exactly what the one-asset
read gives, page after page, on SQLite and PostgreSQL."""

from __future__ import annotations

from modelatlas.registry import Registry


def test_hits_are_the_assets_get_asset_reads(org: Registry) -> None:
    items = org.search("", facets=[], limit=500).items
    assert len(items) > 10
    for hit in items:
        alone = org.get_asset(hit.ref)
        assert hit == alone
        assert hit.model_dump_json() == alone.model_dump_json()
        assert hit.model_fields_set == alone.model_fields_set
    trained = org.search("trained_on:dataset:finance/transactions@3", facets=[]).items
    assert [a.ref for a in trained] == ["model_version:fraud/churn@1"]
    assert trained[0].tags == ["pii", "tier-1"] and trained[0].metadata["metrics"]["auc"] == 0.93


def test_a_transitive_walk_pages_in_id_order(org: Registry) -> None:
    q = "trained_on*:dataset:finance/transactions"
    whole = [a.ref for a in org.search(q, facets=[], limit=500).items]
    paged: list[str] = []
    cursor = None
    while True:
        page = org.search(q, facets=[], cursor=cursor, limit=1)
        paged += [a.ref for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == whole
    assert len(whole) == 4 and all(r.startswith("model_version:") for r in whole)
