"""The same data gives the same result set on SQLite and PostgreSQL: one table of queries
(queries.json), asserted on each backend; and a name match ranks above a description
match on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fulltext_corpus import build_corpus, search

from modelatlas.registry import Registry
from modelatlas.search.fulltext import matching
from worlds import Worlds

TABLE = json.loads((Path(__file__).parent / "queries.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = TABLE["cases"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def corpus(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One corpus per backend for the module: these tests only read it."""
    with world_cache.shared(request.param, build_corpus) as registry:
        yield registry


@pytest.mark.parametrize("case", CASES, ids=[c["q"] for c in CASES])
def test_query_finds_the_same_set_on_every_backend(
    corpus: Registry, case: dict[str, Any]
) -> None:
    expected = {TABLE["aliases"][letter] for letter in case["finds"]}
    assert set(search(corpus, case["q"])) == expected, case["why"]


def test_a_name_match_ranks_above_a_description_match(corpus: Registry) -> None:
    found = search(corpus, "detector")
    description_only = found.index("dataset:marketing/loyalty@1")
    assert found.index("model:fraud/fraud-detector") < description_only
    assert found.index("model_version:fraud/fraud-detector@1") < description_only


def test_a_card_match_ranks_below_a_name_match(corpus: Registry) -> None:
    # "transactions" is the dataset's name and a word of the fraud model's card
    assert search(corpus, "transactions") == [
        "dataset:finance/transactions@3", "model:fraud/fraud-detector",
    ]


def test_two_full_text_selects_combine_in_one_statement(corpus: Registry) -> None:
    """Bind parameters are unique per select, so a query language can OR two of them."""
    zurich = matching("zurich", corpus.db.dialect).subquery()
    spam = matching("spam", corpus.db.dialect).subquery()
    either = sa.union(sa.select(zurich.c.asset_id), sa.select(spam.c.asset_id))
    with corpus.db.read() as conn:
        assert len(conn.execute(either).all()) == 2
