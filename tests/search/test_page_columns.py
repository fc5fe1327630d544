"""A page of hits selects only the columns an Asset is built from, plus the id."""

from __future__ import annotations

from modelatlas.registry._rows import _ASSET_COLUMNS
from modelatlas.search.engine import PAGE_COLUMNS
from modelatlas.store.tables import assets


def test_a_page_row_holds_every_column_an_asset_is_built_from() -> None:
    assert set(_ASSET_COLUMNS) <= set(PAGE_COLUMNS)
    assert set(PAGE_COLUMNS) - set(_ASSET_COLUMNS) == {"id"}
    assert set(PAGE_COLUMNS) <= set(assets.c.keys())
