"""Access control wired into lineage: walks, paths and blast radius on SQLite and
PostgreSQL. The asset asked about must be readable (else the 404 of a missing asset, the
attempt recorded); assets reached that the caller may not read stay in the answer as
redacted nodes, with their place, kind and edges, never dropped.

    dataset:fraud/raw@1 <-derived_from- dataset:vault/mid@1 <-derived_from- feature:fraud/agg@1
    run:fraud/train-1 used mid@1 and agg@1, produced model_version:fraud/churn@1
    deployment:vault/api serves churn@1;  model_version:fraud/churn@2 (promoted) derived
    from churn@1
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelatlas.errors import NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import (
    AssetCreate,
    AssetUpdate,
    Registry,
    RelationCreate,
    VersionRegistration,
)
from modelatlas.registry.lineage_types import LineageEdge, LineageGraph, LineageNode

RAW, MID, AGG = "dataset:fraud/raw@1", "dataset:vault/mid@1", "feature:fraud/agg@1"
CHURN1, CHURN2 = "model_version:fraud/churn@1", "model_version:fraud/churn@2"
TRAIN, API = "run:fraud/train-1", "deployment:vault/api"

CALLERS: dict[str, Principal] = {
    "viewer": Principal(kind="user", person="alice"),
    "contributor": Principal(kind="user", person="carol"),
    "maintainer": Principal(kind="user", person="mike"),
    "admin": Principal(kind="user", person="adam"),
    "group": Principal(kind="user", person="gus", groups=frozenset({"fraud-team"})),
    "read-token": Principal(kind="token", person="mike", token_id="tok-1",
                            scopes=frozenset({"read"})),
    "everywhere": Principal(kind="user", person="wendy"),
    "nobody": Principal(kind="user", person="nora"),
}
GRANTS = [("fraud", "user", "alice", "viewer"), ("fraud", "user", "carol", "contributor"),
          ("fraud", "user", "mike", "maintainer"), ("fraud", "user", "adam", "admin"),
          ("fraud", "group", "fraud-team", "viewer"), ("*", "user", "wendy", "viewer")]
# the namespaces each caller may read (None: may not read the root)
READS: dict[str, set[str] | None] = {
    "viewer": {"fraud"}, "contributor": {"fraud"}, "maintainer": {"fraud"},
    "admin": {"fraud"}, "group": {"fraud"}, "read-token": {"fraud"},
    "everywhere": {"fraud", "vault"}, "nobody": None,
}


def _link(registry: Registry, source: str, relation: str, target: str) -> None:
    registry.add_relation(RelationCreate(source=source, relation=relation, target=target))


def _build(registry: Registry) -> None:
    for ref in (RAW, MID, AGG, API):
        registry.create_asset(AssetCreate(ref=ref))
    _link(registry, MID, "derived_from", RAW)
    _link(registry, AGG, "derived_from", MID)
    registry.register_version("fraud", "churn", VersionRegistration(
        run={"name": "train-1"}, datasets=[MID], features=[AGG]))
    registry.register_version("fraud", "churn", VersionRegistration(derived_from=[CHURN1]))
    _link(registry, API, "serves", CHURN1)
    for namespace, kind, name, role in GRANTS:
        registry.grant_role(namespace, {"principal_type": kind, "principal_name": name,
                                        "role": role})


@pytest.fixture
def world(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build)[0]


def _denials(registry: Registry) -> list[tuple[str, str, str]]:
    return [(e.actor, e.ref, e.payload["action"]) for e in registry.events(limit=500).items
            if e.action == "access.denied"]


def _namespace(ref: str) -> str:
    return ref.partition(":")[2].partition("/")[0]


def _same_graph_redacted(full: LineageGraph, seen: LineageGraph, reads: set[str]) -> None:
    """``seen`` is ``full`` node for node and edge for edge, the nodes outside ``reads``
    redacted (kind, depth and direction kept, one token per asset)."""
    assert len(seen.nodes) == len(full.nodes) and seen.truncated == full.truncated
    renamed: dict[str, str] = {}
    for whole, shown in zip(full.nodes, seen.nodes, strict=True):
        assert (shown.kind, shown.depth, shown.direction) == (
            whole.kind, whole.depth, whole.direction)
        if _namespace(whole.ref) in reads:
            assert shown == whole and not shown.redacted
        else:
            assert shown.redacted and shown.ref.startswith("redacted:")
            assert (shown.state, shown.created_at) == ("redacted", "")
        renamed[whole.ref] = shown.ref
    assert len(set(renamed.values())) == len(renamed)  # tokens are distinct
    expected = sorted((renamed[e.source], e.relation, renamed[e.target]) for e in full.edges)
    assert sorted((e.source, e.relation, e.target) for e in seen.edges) == expected
    assert not any(_namespace(n.ref) == "vault" for n in seen.nodes if not n.redacted
                   and "vault" not in reads)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("direction", ["downstream", "both"])
def test_a_walk_shows_unreadable_assets_redacted(world: Registry, caller: str,
                                                 direction: str) -> None:
    query = {"direction": direction, "depth": 5}
    full = world.lineage(RAW, query)
    reads = READS[caller]
    if reads is None:
        with pytest.raises(NotFound) as refused:
            world.lineage(RAW, query, principal=CALLERS[caller])
        assert [e.path for e in refused.value.errors] == ["/ref"]
        assert _denials(world) == [(CALLERS[caller].actor, RAW, "asset.read")]
        return
    seen = world.lineage(RAW, query, principal=CALLERS[caller])
    _same_graph_redacted(full, seen, reads)
    if "vault" not in reads:  # the hidden dataset sits between raw and what it fed
        mid = next(n for n in seen.nodes if n.redacted and n.kind == "dataset")
        assert mid.depth == 1 and LineageEdge(source=mid.ref, relation="derived_from",
                                              target=RAW) in seen.edges
        assert AGG in {n.ref for n in seen.nodes}  # beyond the redacted node: still there
    assert _denials(world) == []


def test_the_local_user_sees_everything_unredacted(world: Registry) -> None:
    graph = world.lineage(RAW, {"direction": "both", "depth": 5})
    assert {MID, API, CHURN1, TRAIN} <= {n.ref for n in graph.nodes}
    assert not any(n.redacted for n in graph.nodes)


def test_an_unreadable_root_is_answered_as_a_missing_one(world: Registry) -> None:
    alice = CALLERS["viewer"]
    with pytest.raises(NotFound) as missing:
        world.lineage("dataset:vault/nothing@1", principal=alice)
    with pytest.raises(NotFound) as hidden:
        world.lineage(MID, principal=alice)
    assert (hidden.value.status, [(e.path, e.message) for e in hidden.value.errors]) == (
        missing.value.status, [(e.path, e.message) for e in missing.value.errors])
    assert str(hidden.value).replace(MID, "X") == str(missing.value).replace(
        "dataset:vault/nothing@1", "X")
    # only the asset that exists leaves a denial: a missing one was never refused
    assert _denials(world) == [("alice", MID, "asset.read")]
    with pytest.raises(NotFound):
        world.blast_radius(MID, principal=alice)
    with pytest.raises(NotFound):
        world.lineage(MID, {"as_of": "2100-01-01"}, principal=alice)
    assert len(_denials(world)) == 3


def test_promoted_only_namespaces_redact_unpromoted_versions(world: Registry) -> None:
    world.update_asset(CHURN2, AssetUpdate(tags=["promoted"]), expected_revision=1)
    world.set_namespace_policy("fraud", {"contributors_read_promoted_only": True})
    query = {"direction": "downstream", "depth": 6}
    shown = {n.ref: n for n in world.lineage(RAW, query, principal=CALLERS["viewer"]).nodes}
    assert CHURN2 in shown and CHURN1 not in shown
    hidden = [n for n in shown.values() if n.redacted]
    assert sorted(n.kind for n in hidden) == ["dataset", "deployment", "model_version"]
    maintainer = world.lineage(RAW, query, principal=CALLERS["read-token"])
    assert {CHURN1, CHURN2} <= {n.ref for n in maintainer.nodes}
    # a promoted-only reader asking for the unpromoted version itself: 404, recorded
    with pytest.raises(NotFound):
        world.lineage(CHURN1, principal=CALLERS["contributor"])
    assert _denials(world) == [("carol", CHURN1, "asset.read")]


@pytest.mark.parametrize("caller", ["viewer", "group", "read-token", "everywhere"])
def test_paths_redact_the_assets_between(world: Registry, caller: str) -> None:
    full = world.lineage_paths(RAW, CHURN1)
    seen = world.lineage_paths(RAW, CHURN1, principal=CALLERS[caller])
    assert (seen.source, seen.target) == (RAW, CHURN1)
    assert [len(p.refs) for p in seen.paths] == [len(p.refs) for p in full.paths]
    reads = READS[caller] or set()
    for whole, path in zip(full.paths, seen.paths, strict=True):
        assert (path.refs[0], path.refs[-1]) == (RAW, CHURN1)
        for ref, shown in zip(whole.refs, path.refs, strict=True):
            assert (shown == ref) == (_namespace(ref) in reads)
        assert [e.relation for e in path.edges] == [e.relation for e in whole.edges]
    assert any(r.startswith("redacted:") for p in seen.paths for r in p.refs) == (
        "vault" not in reads)


def test_paths_need_both_ends_readable(world: Registry) -> None:
    alice, nora = CALLERS["viewer"], CALLERS["nobody"]
    with pytest.raises(NotFound) as target:
        world.lineage_paths(RAW, MID, principal=alice)
    assert [e.path for e in target.value.errors] == ["/target"]
    with pytest.raises(NotFound) as source:
        world.lineage_paths(RAW, CHURN1, principal=nora)
    assert [e.path for e in source.value.errors] == ["/source"]
    assert _denials(world) == [("alice", MID, "asset.read"), ("nora", RAW, "asset.read")]


@pytest.mark.parametrize("caller", ["viewer", "maintainer", "everywhere", "nobody"])
def test_blast_radius_counts_everything_and_redacts_items(world: Registry,
                                                          caller: str) -> None:
    full = world.blast_radius(RAW)
    reads = READS[caller]
    if reads is None:
        with pytest.raises(NotFound):
            world.blast_radius(RAW, principal=CALLERS[caller])
        assert _denials(world) == [(CALLERS[caller].actor, RAW, "asset.read")]
        return
    seen = world.blast_radius(RAW, principal=CALLERS[caller])
    assert seen.totals == full.totals  # a kind is not a secret; a smaller radius would lie
    assert [(n.kind, n.depth) for n in seen.items] == [(n.kind, n.depth) for n in full.items]
    deployments = [n for n in seen.items if n.kind == "deployment"]
    assert [n.redacted for n in deployments] == ["vault" not in reads]
    assert [n.ref for n in deployments] == (["redacted:1"] if "vault" not in reads else [API])
    # one page at a time: the cursor walks the same items
    first = world.blast_radius(RAW, limit=1, principal=CALLERS[caller])
    rest = world.blast_radius(RAW, cursor=first.next_cursor, principal=CALLERS[caller])
    assert [n.kind for n in first.items + rest.items] == [n.kind for n in seen.items]


def test_the_walk_node_model_keeps_its_fields() -> None:
    # additive: old clients that ignore ``redacted`` still read every field they knew
    assert list(LineageNode.model_fields) == ["ref", "kind", "state", "created_at", "depth",
                                              "direction", "redacted"]
