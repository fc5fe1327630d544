"""Facets, sorting and keyset paging, free text and tags, and the refusal of bad input."""

from __future__ import annotations

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.registry import Registry, VersionRegistration
from modelatlas.search.parser import QuerySyntaxError, parse

SORTS = ["relevance", "created", "-created", "name", "-name", "updated", "metrics.auc",
         "-metrics.auc"]


@pytest.mark.parametrize("sort", SORTS)
def test_pages_are_disjoint_and_complete(org: Registry, sort: str) -> None:
    everything = org.search("", facets=[], sort=sort, limit=500).items
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = org.search("", facets=[], sort=sort, cursor=cursor, limit=3)
        assert len(page.items) <= 3
        seen += [a.ref for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [a.ref for a in everything]  # same order, nothing twice, nothing lost
    assert len(seen) == len(set(seen)) > 10


def test_metric_sort_orders_by_value_then_missing_last(org: Registry) -> None:
    items = org.search("kind:model_version", facets=[], sort="-metrics.auc").items
    assert [a.metadata["metrics"]["auc"] for a in items] == [0.95, 0.93, 0.88, 0.71, 0.6]
    mixed = org.search("", facets=[], sort="metrics.auc", limit=500).items
    assert mixed[0].metadata["metrics"]["auc"] == 0.6
    assert "metrics" not in mixed[-1].metadata or not mixed[-1].metadata["metrics"]


def test_facets_count_the_whole_result_set(org: Registry) -> None:
    result = org.search("kind:model_version", limit=1,
                        facets=["namespace", "framework", "owner", "dataset", "auc", "tag"])
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["namespace"] == {"fraud": 4, "growth": 1}
    assert facets["framework"] == {"xgboost": 2, "pytorch": 1, "lightgbm": 1, "sklearn": 1}
    assert facets["owner"] == {"alice": 2, "bob": 1, "carol": 1}
    assert facets["dataset"] == {"dataset:finance/transactions@3": 1,
                                 "dataset:finance/txn-clean@1": 1,
                                 "dataset:finance/transactions@1": 1}
    assert [(v.value, v.count) for v in result.facets["auc"]] == [
        ("0.5-0.7", 1), ("0.7-0.8", 1), ("0.8-0.9", 1), ("0.9-0.95", 1), (">=0.95", 1)]
    assert facets["tag"]["pii"] == 1
    assert len(result.items) == 1 and result.next_cursor is not None


def test_facets_count_the_same_hits_when_kind_and_namespace_scope_a_metric(
        org: Registry) -> None:
    """Facets count such a query from the metric's (kind, namespace) range, leaving out
    the equalities it implies, and only those."""
    result = org.search("kind:model_version namespace:fraud metrics.auc>=0.9", limit=1,
                        facets=["namespace", "framework", "auc"])
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["namespace"] == {"fraud": 2}
    assert facets["auc"] == {"0.9-0.95": 1, ">=0.95": 1}
    assert sum(facets["framework"].values()) == 2 and facets["framework"]["xgboost"] == 1
    none = org.search("kind:model_version namespace:fraud namespace:growth metrics.auc>=0.9",
                      facets=["namespace", "auc"])
    assert none.items == [] and none.facets == {"namespace": [], "auc": []}


def test_default_facets_come_from_configuration(org: Registry) -> None:
    result = org.search("namespace:growth")
    assert list(result.facets) == ["kind", "namespace", "tag", "state"]
    with pytest.raises(InvalidInput, match="unknown facet"):
        org.search("", facets=["colour"])


def test_free_text_finds_and_ranks(org: Registry) -> None:
    found = org.search("churn classifier", facets=[]).items
    assert found and found[0].ref == "model_version:fraud/churn@1"
    assert {a.ref for a in org.search('"churn classifier" kind:model_version').items} == {
        "model_version:fraud/churn@1"}


def test_tags_through_the_vocabulary(org: Registry) -> None:
    result = org.search("tag:no-such-tag-in-any-vocabulary", facets=[])
    assert result.unknown_tags == ["no-such-tag-in-any-vocabulary"]
    assert result.items == []


def test_cursor_of_another_query_is_refused(org: Registry) -> None:
    cursor = org.search("", facets=[], limit=1).next_cursor
    with pytest.raises(InvalidInput, match="cursor"):
        org.search("kind:model", facets=[], limit=1, cursor=cursor)
    with pytest.raises(InvalidInput, match="cursor"):
        org.search("", facets=[], limit=1, cursor=cursor, sort="name")
    with pytest.raises(InvalidInput, match="cursor"):
        org.search("", facets=[], cursor="not-a-cursor")


@pytest.mark.parametrize(("query", "column", "expected"), [
    ("kind:", 6, "a value"),
    ("(a OR b", 8, "')'"),
    ("a OR", 5, "a word"),
    ('name:"open', 6, None),
    ("a ) b", 3, None),
])
def test_syntax_errors_name_the_column(query: str, column: int, expected: str | None) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.column == column
    assert f"column {column}" in caught.value.detail
    assert caught.value.code == "query_syntax" and caught.value.status == 422
    if expected:
        assert expected in caught.value.expected


@pytest.mark.parametrize(("query", "message"), [
    ("colour:red", "unknown field 'colour'"),
    ("metrics.auc>abc", "compares numbers"),
    ("metrics.auc:high", "metrics are numbers"),
    ("kind:banana", "unknown kind"),
    ("kind>3", "takes ':'"),
    ("created>yesterday", "not a date"),
    ("state:x*", "takes no prefix"),
    ("served_by*:deployment:a/b", "transitive"),
    ("trained_on:not-a-ref", "ref"),
    ("requires:pkg:numpy>>2", "package and a version constraint"),
    ("requires:pkg:", "package and a version constraint"),
    ("requires*:pkg:numpy<2", "transitive"),
    ('requires:"pkg:numpy<2; python_version<\'3.9\'"', "no extras, markers or URLs"),
    ("x" * 2001, "at most 2000"),
    # the column of the first level too many (found by a second parse, with positions)
    ("(" * 21 + "a" + ")" * 21, "column 21: the query nests deeper than 20"),
    ("-" * 25 + "a", "column 21: the query nests deeper than 20"),
    ("x AND " + "(" * 22 + "a" + ")" * 22, "column 26: the query nests deeper than 20"),
    ("NOT " * 22 + "a", "column 81: the query nests deeper than 20"),
])
def test_bad_queries_are_invalid_input(org: Registry, query: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        org.search(query)


@pytest.mark.parametrize("query", [
    'meta.framework:"x\' OR 1=1 --"',
    "meta.a-b.c_d:1",
    "tag:%", "name:_*", "owner:%",
    "namespace:ü*",
    "requires:pkg:numpy===1'OR'1'='1",
    "'; DROP TABLE assets; --x",  # punctuation dropped: the words are searched as text
])
def test_hostile_text_is_only_ever_a_value(org: Registry, query: str) -> None:
    assert org.search(query).items == []  # matched literally: nothing is named like that
    assert org.search("kind:dataset", facets=[]).items  # the table is still there


@pytest.mark.parametrize("query", [
    "name:'); DROP TABLE assets; --*",
    "requires:pkg:numpy<2'--",
])
def test_hostile_text_that_is_no_query_is_refused(org: Registry, query: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        org.search(query)
    assert caught.value.errors[0].path == "/q"
    assert org.search("kind:dataset", facets=[]).items  # the table is still there


def test_free_text_under_or_and_not(org: Registry) -> None:
    hits = [a.ref for a in org.search("classifier OR namespace:growth kind:model_version",
                                      facets=[]).items]
    assert hits[0] == "model_version:fraud/churn@1"  # the text match ranks first
    assert set(hits) == {"model_version:fraud/churn@1", "model_version:growth/ltv@1"}
    rest = {a.ref for a in org.search("kind:model_version -classifier", facets=[]).items}
    assert "model_version:fraud/churn@1" not in rest and len(rest) == 4


def test_metric_filters_follow_metadata_updates(registry: Registry) -> None:
    """The metrics side table is kept by the database on insert and on update."""
    from modelatlas.registry.types import AssetCreate, AssetUpdate

    made = registry.create_asset(AssetCreate(ref="run:fin/train-1",
                                             metadata={"metrics": {"auc": 0.8, "loss": 3}}))
    registry.create_asset(AssetCreate(ref="run:fin/train-2", metadata={"metrics": {}}))

    def found(q: str) -> list[str]:
        return [a.ref for a in registry.search(q, facets=[]).items]

    assert found("metrics.auc>=0.9") == []
    assert found("metrics.auc<0.9") == ["run:fin/train-1"]
    assert found("metrics.loss=3") == ["run:fin/train-1"]  # integers are numbers too
    registry.update_asset("run:fin/train-1", AssetUpdate(metadata={"metrics": {"auc": 0.95}}),
                          expected_revision=made.revision)
    assert found("metrics.auc>=0.9") == ["run:fin/train-1"]
    assert found("kind:run namespace:fin metrics.auc>=0.9") == ["run:fin/train-1"]
    assert found("metrics.auc!=0.8") == ["run:fin/train-1"]
    assert found("metrics.loss=3") == ["run:fin/train-1"]  # merge patch kept it
    assert found("metrics.auc<0.9") == []
    assert found("NOT metrics.auc>=0.9 kind:run") == ["run:fin/train-2"]


def test_metric_sort_follows_metadata_updates(registry: Registry) -> None:
    """A metric sort reads the same side table: an update reorders it, and an asset
    without the metric sorts last."""
    from modelatlas.registry.types import AssetCreate, AssetUpdate

    first = registry.create_asset(AssetCreate(ref="run:fin/a", metadata={"metrics": {"auc": 0.7}}))
    registry.create_asset(AssetCreate(ref="run:fin/b", metadata={"metrics": {"auc": 0.8}}))
    registry.create_asset(AssetCreate(ref="run:fin/c", metadata={"metrics": {"loss": 1}}))

    def ordered() -> list[str]:
        return [a.ref for a in registry.search("kind:run", sort="-metrics.auc", facets=[]).items]

    assert ordered() == ["run:fin/b", "run:fin/a", "run:fin/c"]
    registry.update_asset("run:fin/a", AssetUpdate(metadata={"metrics": {"auc": 0.9}}),
                          expected_revision=first.revision)
    assert ordered() == ["run:fin/a", "run:fin/b", "run:fin/c"]


def test_trained_on_follows_edges_added_and_removed(registry: Registry) -> None:
    """run_inputs is kept by the database from used/produced edges, in either order."""
    from modelatlas.registry.types import AssetCreate, RelationCreate

    for ref in ("dataset:fin/tx@1", "dataset:fin/tx@2", "run:fin/train-1"):
        registry.create_asset(AssetCreate(ref=ref))
    registry.register_version("fin", "churn", VersionRegistration())
    version = "model_version:fin/churn@1"

    def trained_on(target: str) -> list[str]:
        return [a.ref for a in registry.search(f"trained_on:{target}", facets=[]).items]

    registry.add_relation(RelationCreate(source="run:fin/train-1", relation="produced",
                                         target=version))
    registry.add_relation(RelationCreate(source="run:fin/train-1", relation="used",
                                         target="dataset:fin/tx@1"))
    assert trained_on("dataset:fin/tx@1") == [version]
    assert trained_on("dataset:fin/tx") == [version]
    registry.remove_relation("run:fin/train-1", "used", "dataset:fin/tx@1")
    assert trained_on("dataset:fin/tx") == []
    registry.add_relation(RelationCreate(source="run:fin/train-1", relation="used",
                                         target="dataset:fin/tx@2"))
    assert trained_on("dataset:fin/tx@2") == [version]
    registry.remove_relation("run:fin/train-1", "produced", version)
    assert trained_on("dataset:fin/tx@2") == []


def test_punctuation_in_free_text_is_dropped_not_refused(org: Registry) -> None:
    """A token with no letter or digit has nothing to look up in the full-text index: it
    is dropped, as search engines drop punctuation; alone, it is refused at its column."""
    def refs(q: str) -> list[str]:
        return [a.ref for a in org.search(q, facets=[]).items]

    assert refs("churn classifier &") == refs("churn classifier") != []
    assert refs("kind:model_version \N{SLIGHTLY SMILING FACE}") == refs("kind:model_version")
    assert refs("(& OR #) kind:dataset") == refs("kind:dataset")
    with pytest.raises(InvalidInput) as caught:
        org.search("& #")
    assert caught.value.errors[0].path == "/q"
    assert "column 1" in caught.value.errors[0].message


def test_a_prefix_word_ranks_wherever_it_stands(org: Registry) -> None:
    """``classif*`` is a prefix in the filter and in the ranking alike, first or last."""
    first = org.search("classif* churn", facets=[]).items
    last = org.search("churn classif*", facets=[]).items
    assert [a.ref for a in first] == [a.ref for a in last]
    assert first[0].ref == "model_version:fraud/churn@1"
