"""What a user types is never FTS5 or tsquery syntax: operators, quotes, wildcards and SQL
fragments are matched as words or rejected with InvalidInput, never a database error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fulltext_corpus import build_corpus, search

from modelatlas.errors import InvalidInput
from modelatlas.registry import AssetCreate, Registry
from modelatlas.search.fulltext import (
    FullTextQuery,
    Term,
    _fts5_expression,
    fulltext_tokens,
    parse_fulltext,
)
from worlds import Worlds

A, V = "model:fraud/fraud-detector", "model_version:fraud/fraud-detector@1"
ODD = "dataset:odd/near-or-not@1"

# (typed text, refs it finds): syntax of FTS5, tsquery, SQL and LIKE as plain words
LITERAL = [
    ("NEAR(fraud detector)", set()),  # a phrase "near fraud", then "detector"
    ("near", {ODD}),
    ("NEAR(", {ODD}),
    ("near or not", {ODD}),  # OR and NOT are words, and ODD has them
    ("fraud OR churn", set()),  # not a disjunction: needs the word "or" too
    ("NOT fraud", set()),
    ("-fraud", {A, V}),  # not an exclusion
    ("fraud AND detector", set()),
    ('"fraud', {A, V}),  # an unclosed quote runs to the end
    ('fraud"', {A, V}),
    ('"fraud" "detector"', {A, V}),
    ('"fra""ud"', set()),  # two words fra and ud
    ("name:fraud", set()),  # a column filter in FTS5: here two words
    ("fraud:*", {A, V}),
    ("^fraud", {A, V}),
    ("(fraud", {A, V}),
    ("fraud)", {A, V}),
    ("fraud'", {A, V}),
    ("fraud'; DROP TABLE assets; --", set()),
    ("fraud /* x */", set()),  # needs the word "x"
    ("fraud /* */", {A, V}),
    ("%fraud%", {A, V}),
    ("fraud_%", {A, V}),
    ("fraud & detector | x", set()),
    ("!fraud", {A, V}),
    ("fraud <-> detector", {A, V}),
    ("fraud:A", set()),
    ("\\fraud\\", {A, V}),
    ("fra*ud", set()),  # * inside a word separates: fra and ud
    ("fraud\u0000", {A, V}),
    ("\u202efraud", {A, V}),
    ("\uff46\uff52\uff41\uff55\uff44", set()),  # full-width letters are other letters
]

NOTHING_TO_SEARCH = ["", "   ", '"', '""', "*", "**", "'", "%", "_", "--", "/* */", "(", ")",
                     "^", ":", "-", "😀", "\u0000", "\u200b", "\ud800", ":* & | ! <->"]


def _build_odd(registry: Registry) -> None:
    build_corpus(registry)
    registry.create_asset(AssetCreate(ref=ODD, description="Or not: the NEAR( asset"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def odd(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """The corpus and one odd asset, one per backend for the module: its tests only read."""
    with world_cache.shared(request.param, _build_odd) as registry:
        yield registry


@pytest.mark.parametrize(("text", "finds"), LITERAL, ids=[t for t, _ in LITERAL])
def test_syntax_is_matched_as_words(odd: Registry, text: str, finds: set[str]) -> None:
    assert set(search(odd, text)) == finds


@pytest.mark.parametrize("text", NOTHING_TO_SEARCH, ids=repr)
def test_text_without_a_word_is_invalid_input(odd: Registry, text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        search(odd, text)
    assert [e.path for e in raised.value.errors] == ["/q"]


@pytest.mark.parametrize("text", ["x" * 1001, "a " * 40, "y" * 201],
                         ids=["too long", "too many words", "word too long"])
def test_limits_are_invalid_input(odd: Registry, text: str) -> None:
    with pytest.raises(InvalidInput):
        search(odd, text)


def test_tokens_fold_case_and_latin_accents_only() -> None:
    assert fulltext_tokens("Fraud-Détector_v2.1") == ["fraud", "detector", "v2", "1"]
    assert fulltext_tokens("Cafe\u0301 ZÜRICH") == ["cafe", "zurich"]
    assert fulltext_tokens("йод Ελληνικά") == ["йод", "ελληνικά"]  # as unicode61 does


def test_parse_marks_phrases_and_the_last_prefix() -> None:
    assert parse_fulltext('fraud-det "card fraud" churn*') == FullTextQuery((
        Term(("fraud", "det")), Term(("card", "fraud")), Term(("churn",), prefix=True),
    ))
    assert parse_fulltext("det* churn").terms[0].prefix is False


def test_fts5_expression_quotes_every_word() -> None:
    query = FullTextQuery((Term(('a"b',)), Term(("c", "d"), prefix=True)))
    assert _fts5_expression(query) == '"a""b" AND "c" + "d" *'
