"""W3C PROV out: a registry subgraph as PROV-JSON and PROV-O Turtle, read back with prov's
own readers into the same records; and the mapping of each relation."""

from __future__ import annotations

import json

import pytest
from provenance_world import COMMIT, deploy, evaluate, link_feature_source, register

from modelatlas.errors import InvalidInput
from modelatlas.lineage.prov import (
    MEDIA_TYPES,
    asset_refs,
    build_document,
    check_format,
    read_prov,
    statement_of,
    write_prov,
)
from modelatlas.registry import Asset, Registry, Relation


def _whole(registry: Registry) -> tuple[list[Asset], list[Relation]]:
    assets = registry.list_assets(limit=500).items
    edges = [rel for a in assets
             for rel in registry.relations(a.ref, direction="out", limit=500).items]
    return assets, edges


def _story(registry: Registry) -> str:
    version = register(registry, "fraud", "churn")
    link_feature_source(registry, "fraud")
    evaluate(registry, version, "dataset:fraud/transactions@1", "churn-eval")
    deploy(registry, version, "churn-api")
    return version


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_export_round_trips_through_prov(registry: Registry, fmt: str) -> None:
    _story(registry)
    assets, edges = _whole(registry)
    doc = build_document(assets, edges)

    text = write_prov(doc, check_format(fmt))
    back = read_prov(text, check_format(fmt))

    assert back == doc
    assert len(back.get_records()) == len(doc.get_records())
    assert asset_refs(back) == {a.ref for a in assets}
    assert MEDIA_TYPES[fmt] in ("application/json", "text/turtle")


def test_the_mapping_states_the_prov_of_each_edge(registry: Registry) -> None:
    version = _story(registry)
    assets, edges = _whole(registry)
    data = json.loads(write_prov(build_document(assets, edges), "json"))

    assert f"asset:{version}" in data["entity"]
    assert "asset:run:fraud/churn-v1" in data["activity"]
    assert "asset:evaluation:fraud/churn-eval" in data["activity"]
    assert {"asset:code:fraud/churn-train", "asset:environment:fraud/py311"} <= set(data["agent"])
    assert data["agent"]["principal:tester"]["prov:label"] == "tester"
    run = data["activity"]["asset:run:fraud/churn-v1"]
    assert json.loads(run["ma:seeds"]) == {"numpy": 7, "torch": 42}
    assert run["prov:startTime"].startswith("2026-01-05T10:00:00")
    assert data["agent"]["asset:code:fraud/churn-train"]["ma:commit"] == COMMIT

    def rows(term: str, first: str, second: str) -> set[tuple[str, str, str]]:
        return {(r[first], r[second], r.get("ma:relation", ""))
                for r in data.get(term, {}).values()}

    assert (f"asset:{version}", "asset:run:fraud/churn-v1", "produced") in rows(
        "wasGeneratedBy", "prov:entity", "prov:activity")
    associated = rows("wasAssociatedWith", "prov:activity", "prov:agent")
    assert ("asset:run:fraud/churn-v1", "asset:code:fraud/churn-train", "used") in associated
    assert ("asset:run:fraud/churn-v1", "principal:tester", "created_by") in associated
    used = rows("used", "prov:activity", "prov:entity")
    assert ("asset:run:fraud/churn-v1", "asset:dataset:fraud/transactions@1", "used") in used
    assert ("asset:evaluation:fraud/churn-eval", f"asset:{version}", "evaluated") in used
    assert ("asset:deployment:fraud/churn-api", f"asset:{version}", "serves") in used
    assert ("asset:feature:fraud/txn-aggregates@1", "asset:dataset:fraud/transactions@1",
            "derived_from") in rows("wasDerivedFrom", "prov:generatedEntity",
                                    "prov:usedEntity")
    assert (f"asset:{version}", "asset:model:fraud/churn") in {
        (r["prov:specificEntity"], r["prov:generalEntity"])
        for r in data["specializationOf"].values()}


@pytest.mark.parametrize(("relation", "source", "target", "expected"), [
    ("produced", "activity", "entity", ("prov:wasGeneratedBy", True)),
    ("produced", "activity", "activity", ("prov:wasInformedBy", True)),
    ("used", "activity", "agent", ("prov:wasAssociatedWith", False)),
    ("associated_with", "activity", "agent", ("prov:wasAssociatedWith", False)),
    ("derived_from", "entity", "entity", ("prov:wasDerivedFrom", False)),
    ("derived_from", "agent", "agent", ("prov:wasInfluencedBy", False)),
    ("requires", "entity", "agent", ("prov:wasInfluencedBy", False)),
    ("attributed_to", "entity", "entity", ("prov:wasInfluencedBy", False)),
])
def test_statement_of_respects_prov_typing(
    relation: str, source: str, target: str, expected: tuple[str, bool]
) -> None:
    assert statement_of(relation, source, target) == expected  # type: ignore[arg-type]


def test_edges_leaving_the_subgraph_are_left_out(registry: Registry) -> None:
    version = _story(registry)
    assets, edges = _whole(registry)
    some = [a for a in assets if a.ref in (version, "run:fraud/churn-v1")]
    doc = build_document(some, edges)
    assert asset_refs(doc) == {version, "run:fraud/churn-v1"}
    assert read_prov(write_prov(doc, "turtle"), "turtle") == doc


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidInput) as bad:
        check_format("xml")
    assert bad.value.errors[0].path == "/format"


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_service_exports_the_lineage_subgraph(registry: Registry, fmt: str) -> None:
    version = _story(registry)
    register(registry, "risk", "other")  # not connected: stays out

    text = registry.export_prov(version, {"direction": "both", "depth": 3}, fmt)

    back = read_prov(text, check_format(fmt))
    refs = asset_refs(back)
    assert {version, "run:fraud/churn-v1", "dataset:fraud/transactions@1",
            "code:fraud/churn-train", "evaluation:fraud/churn-eval",
            "deployment:fraud/churn-api"} <= refs
    assert not any(ref.startswith(("model_version:risk", "run:risk")) for ref in refs)
    upstream = asset_refs(read_prov(registry.export_prov(
        version, {"direction": "upstream", "depth": 1}, fmt), check_format(fmt)))
    assert "deployment:fraud/churn-api" not in upstream and "run:fraud/churn-v1" in upstream
    with pytest.raises(InvalidInput):
        registry.export_prov(version, {"depth": 0}, fmt)
    with pytest.raises(InvalidInput):
        registry.export_prov(version, None, "xml")
