"""The W3C PROV export through access control: an asset the caller may not read stays in
the document as a bare entity of its kind, so the chain through it is not cut; its name and
namespace appear nowhere."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from modelatlas.errors import Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration

RAW, MID, AGG = "dataset:fraud/raw@1", "dataset:vault/mid@1", "feature:fraud/agg@1"
VIEWER = Principal(kind="user", person="alice")
OUTSIDER = Principal(kind="user", person="nora")


def _build_chain(registry: Registry) -> None:
    for ref in (RAW, MID, AGG):
        registry.create_asset(AssetCreate(ref=ref))
    registry.add_relation(RelationCreate(source=MID, relation="derived_from", target=RAW))
    registry.add_relation(RelationCreate(source=AGG, relation="derived_from", target=MID))
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "alice",
                                  "role": "viewer"})


@pytest.fixture
def chain(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build_chain)[0]


def _entities(text: str) -> dict[str, dict[str, object]]:
    return json.loads(text)["entity"]  # type: ignore[no-any-return]


def test_the_local_user_sees_every_asset(chain: Registry) -> None:
    entities = _entities(chain.export_prov(AGG, {"direction": "upstream", "depth": 3}))
    assert sorted(entities) == sorted(f"asset:{ref}" for ref in (RAW, MID, AGG))


def test_an_unreadable_asset_is_a_bare_entity_and_the_chain_goes_through(
        chain: Registry) -> None:
    text = chain.export_prov(AGG, {"direction": "upstream", "depth": 3}, principal=VIEWER)
    entities = _entities(text)
    assert f"asset:{RAW}" in entities and f"asset:{AGG}" in entities
    hidden = [key for key in entities if key.startswith("asset:redacted:")]
    assert len(hidden) == 1
    assert entities[hidden[0]]["ma:kind"] == "dataset"
    assert "vault" not in text and "mid" not in text
    derivations = json.loads(text)["wasDerivedFrom"].values()
    assert {(d["prov:generatedEntity"], d["prov:usedEntity"]) for d in derivations} == {
        (f"asset:{AGG}", hidden[0]), (hidden[0], f"asset:{RAW}")}


def test_a_root_the_caller_may_not_read_is_missing(chain: Registry) -> None:
    with pytest.raises(NotFound):
        chain.export_prov(AGG, principal=OUTSIDER)


def test_provenance_metrics_cover_only_teams_the_caller_may_read_whole(
        chain: Registry) -> None:
    assert [t.namespace for t in chain.provenance_metrics().teams] == []  # no versions yet
    chain.register_version("fraud", "churn", VersionRegistration(datasets=[RAW]))
    chain.register_version("vault", "risk", VersionRegistration(datasets=[MID]))
    assert [t.namespace for t in chain.provenance_metrics().teams] == ["fraud", "vault"]
    mine = chain.provenance_metrics(principal=VIEWER)
    assert [t.namespace for t in mine.teams] == ["fraud"]
    assert mine.total.model_versions == 1
    with pytest.raises(Forbidden):
        chain.provenance_metrics("vault", principal=VIEWER)
