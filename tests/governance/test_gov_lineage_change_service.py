"""Approval of lineage changes to production versions, through the service layer, on SQLite
and PostgreSQL: an edge of a staging version is applied at once; one of a version in
production becomes a pending request that another maintainer (not another token of the
requester) approves, which applies it, or rejects, which leaves the graph as it was."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from modelatlas.errors import AlreadyExists, Conflict, Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, Relation, RelationCreate
from modelatlas.registry.alias_types import LineageChange
from modelatlas.registry.types import VersionRegistration
from modelatlas.store.tables import assets

CARL = Principal(kind="user", person="carl")  # contributor of fraud
MAE = Principal(kind="user", person="mae")  # maintainer of fraud
MAE_TOKEN = Principal(kind="token", person="mae", token_id="tok-2")  # mae's second credential
MAX = Principal(kind="user", person="max")  # another maintainer of fraud
OTTO = Principal(kind="user", person="otto")  # admin of another team
PROD, STAGING = "model_version:fraud/churn@1", "model_version:fraud/churn@2"


def _world(registry: Registry) -> None:
    for person, role in (("carl", "contributor"), ("mae", "maintainer"),
                         ("max", "maintainer")):
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                      "role": role})
    registry.grant_role("other", {"principal_type": "user", "principal_name": "otto",
                                  "role": "admin"})
    for name in ("tx", "extra", "more"):
        registry.create_asset(AssetCreate(ref=f"dataset:fraud/{name}@1"))
    registry.register_version("fraud", "churn", VersionRegistration(
        datasets=["dataset:fraud/tx@1"]))
    registry.register_version("fraud", "churn", VersionRegistration())
    # the stages as a promotion leaves them (lifecycle is another module's work)
    with registry.db.write() as conn:
        for version, stage in (("1", "production"), ("2", "staging")):
            conn.execute(assets.update().where(assets.c.kind == "model_version",
                                               assets.c.version == version)
                         .values(state=stage))


def _edge(target: str, source: str = PROD) -> RelationCreate:
    return RelationCreate(source=source, relation="derived_from", target=target)


def _has_edge(registry: Registry, source: str, target: str) -> bool:
    return any(r.target == target for r in registry.relations(source, direction="out").items)


def test_staging_applies_at_once_and_production_becomes_a_request(registry: Registry) -> None:
    _world(registry)
    direct = registry.add_relation(_edge("dataset:fraud/extra@1", STAGING), principal=CARL)
    assert isinstance(direct, Relation)
    requested = registry.add_relation(_edge("dataset:fraud/extra@1"), principal=CARL)
    assert isinstance(requested, LineageChange)
    assert (requested.status, requested.ref, requested.op, requested.requested_by) == (
        "pending", PROD, "add", "carl")
    assert not _has_edge(registry, PROD, "dataset:fraud/extra@1")
    last = registry.events().items[-1]
    assert (last.action, last.ref, last.payload["id"]) == ("lineage_change.requested", PROD,
                                                           requested.id)
    before = len(registry.events(limit=500).items)
    again = registry.add_relation(_edge("dataset:fraud/extra@1"), principal=CARL)
    assert isinstance(again, LineageChange) and again.id == requested.id
    assert len(registry.events(limit=500).items) == before  # one request, not two
    # the request path keeps the change's own rules: no right, no request
    with pytest.raises(Forbidden):  # removing needs a maintainer
        registry.remove_relation("run:fraud/churn-v1", "produced", PROD, principal=CARL)
    with pytest.raises(AlreadyExists):
        registry.add_relation(RelationCreate(source="run:fraud/churn-v1", relation="produced",
                                             target=PROD), principal=MAE)
    # the embedded single user has no second person to ask: it changes lineage directly
    assert isinstance(registry.add_relation(_edge("dataset:fraud/more@1")), Relation)


def test_the_requester_cannot_approve_and_another_maintainer_applies(
        registry: Registry) -> None:
    _world(registry)
    change = registry.remove_relation("run:fraud/churn-v1", "used", "dataset:fraud/tx@1",
                                      principal=MAE)
    assert change is None  # the run's edge does not touch the version: applied
    change = registry.remove_relation("run:fraud/churn-v1", "produced", PROD, principal=MAE)
    assert isinstance(change, LineageChange) and change.op == "remove"
    for same_person in (MAE, MAE_TOKEN):
        with pytest.raises(Forbidden, match="another maintainer"):
            registry.approve_lineage_change(change.id, principal=same_person)
        last = registry.events().items[-1]
        assert (last.action, last.actor, last.payload["action"]) == (
            "access.denied", "mae", "lineage.approve")
    with pytest.raises(Forbidden):  # a contributor may not decide
        registry.approve_lineage_change(change.id, principal=CARL)
    with pytest.raises(NotFound):  # another team does not see it at all
        registry.approve_lineage_change(change.id, principal=OTTO)
    assert _has_edge(registry, "run:fraud/churn-v1", PROD)
    applied = registry.approve_lineage_change(change.id, {"comment": "wrong run"},
                                              principal=MAX)
    assert (applied.status, applied.decided_by, applied.comment) == ("applied", "max",
                                                                     "wrong run")
    assert not _has_edge(registry, "run:fraud/churn-v1", PROD)
    tail = [(e.action, e.actor) for e in registry.events().items[-2:]]
    assert tail == [("relation.removed", "max"), ("lineage_change.applied", "max")]
    with pytest.raises(Conflict):
        registry.reject_lineage_change(change.id, principal=MAX)
    assert registry.lineage_change(change.id, principal=CARL).status == "applied"


def test_a_rejection_leaves_the_graph_and_lists_filter_by_reader(registry: Registry) -> None:
    _world(registry)
    change = registry.add_relation(_edge("dataset:fraud/extra@1"), principal=CARL)
    assert isinstance(change, LineageChange)
    with registry.db.read() as conn:
        edges = conn.execute(sa.text("SELECT count(*) FROM relations")).scalar_one()
    rejected = registry.reject_lineage_change(change.id, {"comment": "no"}, principal=MAE)
    assert rejected.status == "rejected"
    with registry.db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM relations")).scalar_one() == edges
    assert registry.events().items[-1].action == "lineage_change.rejected"
    second = registry.add_relation(_edge("dataset:fraud/more@1"), principal=CARL)
    assert isinstance(second, LineageChange)
    page = registry.lineage_changes(namespace="fraud", principal=CARL)
    assert [(c.id, c.status) for c in page.items] == [(change.id, "rejected"),
                                                      (second.id, "pending")]
    pending = registry.lineage_changes(status="pending", limit=1)
    assert [c.id for c in pending.items] == [second.id] and pending.next_cursor is None
    assert registry.lineage_changes(principal=OTTO).items == []
    with pytest.raises(Forbidden):
        registry.lineage_changes(namespace="fraud", principal=OTTO)
    with pytest.raises(NotFound):
        registry.lineage_change(second.id, principal=OTTO)


def test_requirements_cannot_move_a_production_versions_requires_edges(
        registry: Registry) -> None:
    _world(registry)
    feature = "feature:fraud/agg@1"
    registry.create_asset(AssetCreate(ref=feature))
    with pytest.raises(Conflict, match="in production") as refused:
        registry.set_requirements(PROD, {"assets": ["feature:fraud/agg>=1"]}, principal=MAE)
    assert refused.value.errors[0].path == "/requirements"
    assert not any(r.relation == "requires"
                   for r in registry.relations(PROD, direction="out").items)
    # packages alone do not touch lineage; a staging version's edges move freely
    registry.set_requirements(PROD, {"packages": ["numpy>=1.26"]}, principal=MAE)
    registry.set_requirements(STAGING, {"assets": ["feature:fraud/agg>=1"]}, principal=MAE)
    assert _has_edge(registry, STAGING, feature)
