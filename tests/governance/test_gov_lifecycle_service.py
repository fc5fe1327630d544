"""Lifecycle stages, promotion policies and approvals through the service layer, on SQLite
and PostgreSQL: transitions, separation of duties (a second token of one person, the
author through a group, the run's author), approvals bound to the artifact digest, each
optional condition blocking and then passing, and the events each step records."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from modelatlas.errors import Conflict, Forbidden, InvalidInput
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, AssetUpdate, Registry, RelationCreate
from modelatlas.registry.types import VersionRegistration
from modelatlas.store.tables import assets

NS = "fraud"
V1 = "model_version:fraud/churn@1"
ADA = Principal(kind="user", person="ada")  # registers (the author)
ADA_IN_GROUP = Principal(kind="user", person="ada", groups=frozenset({"risk"}))
MAE = Principal(kind="token", person="mae", token_id="tok-1")
MAE_AGAIN = Principal(kind="token", person="mae", token_id="tok-2")
MAX = Principal(kind="user", person="max")
RAE = Principal(kind="user", person="rae")  # the run's user


def _grant(registry: Registry, kind: str, name: str, role: str, ns: str = NS) -> None:
    registry.grant_role(ns, {"principal_type": kind, "principal_name": name, "role": role})


def _world(registry: Registry, **policy: Any) -> None:
    _grant(registry, "user", "ada", "contributor")
    _grant(registry, "group", "risk", "maintainer")
    for person in ("mae", "max", "rae"):
        _grant(registry, "user", person, "maintainer")
    registry.register_version(NS, "churn", VersionRegistration(
        run={"metadata": {"user": "rae"}}), principal=ADA)
    if policy:
        registry.set_promotion_policy(NS, policy)


def _approve(registry: Registry, who: Principal, decision: str = "approve") -> Any:
    return registry.review_version(NS, "churn", 1, {"decision": decision}, principal=who)


def _stage(registry: Registry, stage: str, who: Principal = MAE, **extra: Any) -> Any:
    return registry.set_stage(NS, "churn", 1, {"stage": stage, **extra}, principal=who)


def _actions(registry: Registry, prefix: str = "") -> list[str]:
    return [e.action for e in registry.events(limit=500).items
            if e.action.startswith(prefix) or not prefix]


def test_stages_move_only_along_the_allowed_transitions(registry: Registry) -> None:
    _world(registry)
    with pytest.raises(Conflict) as same:
        _stage(registry, "none")
    assert same.value.errors[0].path == "/stage"
    assert _stage(registry, "staging").state == "staging"
    with pytest.raises(Conflict, match="cannot move from staging to registered"):
        _stage(registry, "registered")
    assert _stage(registry, "production").state == "production"
    assert _stage(registry, "staging").state == "staging"  # demotion
    archived = _stage(registry, "archived")
    assert archived.state == "archived" and archived.revision == 5
    with pytest.raises(Conflict, match="archiving is final"):
        _stage(registry, "staging")
    with pytest.raises(InvalidInput) as bad:
        _stage(registry, "live")
    assert bad.value.errors[0].path == "/stage"
    history = [e.payload for e in registry.history(V1).items
               if e.action == "version.stage_changed"]
    assert [(p["from"], p["to"]) for p in history] == [
        ("registered", "staging"), ("staging", "production"), ("production", "staging"),
        ("staging", "archived")]


def test_a_patch_does_not_change_a_stage(registry: Registry) -> None:
    _world(registry)
    with pytest.raises(InvalidInput) as refused:
        registry.update_asset(V1, AssetUpdate(state="production"), expected_revision=1)
    assert refused.value.errors[0].path == "/state"
    assert "/stage" in refused.value.errors[0].message
    # restating the stage, or another field, still works
    updated = registry.update_asset(V1, AssetUpdate(state="registered", description="d"),
                                    expected_revision=1)
    assert updated.state == "registered" and updated.description == "d"


def test_starting_in_production_needs_a_policy_that_asks_nothing(registry: Registry) -> None:
    _world(registry)
    with pytest.raises(Forbidden, match=r"stage\.change"):  # a contributor may not
        registry.register_version(NS, "churn", VersionRegistration(state="staging"),
                                  principal=ADA)
    made = registry.register_version(NS, "churn", VersionRegistration(state="production"))
    assert made.model_version.state == "production"
    registry.set_promotion_policy(NS, {"required_approvals": 1})
    with pytest.raises(Conflict) as refused:
        registry.register_version(NS, "churn", VersionRegistration(state="production"))
    assert refused.value.errors[0].path == "/state"


def test_two_approvals_by_distinct_people_who_did_not_author_it(registry: Registry) -> None:
    _world(registry, required_approvals=2)
    with pytest.raises(Conflict) as refused:
        _stage(registry, "production")
    assert [e.path for e in refused.value.errors] == ["/approvals"]
    assert "0 of 2" in refused.value.errors[0].message
    assert _actions(registry, "approval.requested") == ["approval.requested"]
    with pytest.raises(Conflict):  # asking again does not ask the approvers again
        _stage(registry, "production")
    assert _actions(registry, "approval.requested") == ["approval.requested"]

    first = _approve(registry, MAE)
    assert first.counted and not first.promoted
    second = _approve(registry, MAE_AGAIN)  # the same person through another token
    assert not second.counted and not second.promoted and second.stage == "registered"
    status = registry.promotion_status(NS, "churn", 1)
    assert status.approvers == ["mae"] and not status.ready and status.open_request
    assert status.excluded == ["ada", "rae"]

    done = _approve(registry, MAX)  # the last approval applies the open request
    assert done.counted and done.promoted and done.stage == "production"
    assert registry.get_asset(V1).state == "production"
    [changed] = [e for e in registry.events(limit=500).items
                 if e.action == "version.stage_changed"]
    assert changed.actor == "max" and changed.payload["approvers"] == ["mae", "max"]
    assert changed.payload["from"] == "registered" and changed.payload["to"] == "production"
    assert not registry.promotion_status(NS, "churn", 1).open_request
    given = [e.payload for e in registry.events(limit=500).items
             if e.action == "approval.given"]
    assert [(p["person"], p["token_id"], p["counted"]) for p in given] == [
        ("mae", "tok-1", True), ("mae", "tok-2", False), ("max", None, True)]


def test_authors_may_not_review_whatever_grants_them_the_role(registry: Registry) -> None:
    _world(registry, required_approvals=1)
    registry.register_version(NS, "churn", VersionRegistration())  # the embedded user's
    registry.register_version(NS, "churn", VersionRegistration(), principal=MAX)
    max_token = Principal(kind="token", person="max", token_id="tok-max")
    # ada is a contributor herself and a maintainer through her group; None: the local user
    cases = [(ADA_IN_GROUP, 1), (RAE, 1), (None, 2), (max_token, 3)]
    for author, version in cases:
        for decision in ("approve", "reject"):
            with pytest.raises(Forbidden, match="separation of duties") as denied:
                registry.review_version(NS, "churn", version, {"decision": decision},
                                        principal=author)
            assert denied.value.problem()["action"] == "approval.give"
    denials = [e for e in registry.events(limit=500).items if e.action == "access.denied"]
    assert len(denials) == 2 * len(cases)
    assert {e.actor for e in denials} == {"ada", "rae", "tester", "max"}
    assert all("separation of duties" in e.payload["reason"] for e in denials)
    for version in (1, 2, 3):
        assert registry.version_reviews(NS, "churn", version).items == []


def test_the_author_of_a_linked_run_may_not_approve(registry: Registry) -> None:
    _world(registry, required_approvals=1)
    registry.create_asset(AssetCreate(ref="run:fraud/retrain"), principal=MAX)
    registry.add_relation(RelationCreate(source="run:fraud/retrain", relation="produced",
                                         target=V1))
    with pytest.raises(Forbidden, match="separation of duties"):
        _approve(registry, MAX)
    assert _approve(registry, MAE).counted


def test_an_approval_of_other_bytes_does_not_count(registry: Registry) -> None:
    _world(registry, required_approvals=1)
    _approve(registry, MAE)
    assert registry.promotion_status(NS, "churn", 1).ready
    # the artifact changes under the approval (a forged row, or a future amendment)
    with registry.db.write() as conn:
        conn.execute(assets.update().where(assets.c.kind == "model_version")
                     .values(digests={"sha256": "ab" * 32}))
    status = registry.promotion_status(NS, "churn", 1)
    assert not status.ready and status.approvers == []
    with pytest.raises(Conflict, match="0 of 1"):
        _stage(registry, "production")


def test_a_rejection_blocks_until_its_author_approves(registry: Registry) -> None:
    _world(registry, required_approvals=1)
    _approve(registry, MAE)
    _approve(registry, MAX, "reject")
    with pytest.raises(Conflict) as refused:
        _stage(registry, "production")
    assert [e.path for e in refused.value.errors] == ["/rejections"]
    assert "max" in refused.value.errors[0].message
    assert _approve(registry, MAX).promoted  # an open request was waiting


def _evaluate(registry: Registry, name: str, passed: bool) -> None:
    registry.create_asset(AssetCreate(ref=f"evaluation:fraud/{name}",
                                      metadata={"passed": passed}))
    registry.add_relation(RelationCreate(source=f"evaluation:fraud/{name}",
                                         relation="evaluated", target=V1))


def test_a_passing_evaluation_is_needed_when_asked(registry: Registry) -> None:
    _world(registry, require_passing_evaluation=True)
    _evaluate(registry, "holdout", passed=False)
    with pytest.raises(Conflict) as refused:
        _stage(registry, "production")
    assert [e.path for e in refused.value.errors] == ["/evaluation"]
    _evaluate(registry, "holdout-2", passed=True)
    assert _stage(registry, "production").state == "production"


def test_a_clean_dependency_check_is_needed_when_asked(registry: Registry) -> None:
    _world(registry)
    registry.set_requirements(V1, {"python": ">=3.12"})
    registry.create_asset(AssetCreate(ref="environment:fraud/serving",
                                      metadata={"python": "3.11.7"}))
    with pytest.raises(InvalidInput) as bad:
        registry.set_promotion_policy(NS, {"require_clean_deps": True})
    assert bad.value.errors[0].path == "/deps_target"
    registry.set_promotion_policy(NS, {"require_clean_deps": True,
                                       "deps_target": "environment:fraud/serving"})
    with pytest.raises(Conflict) as refused:
        _stage(registry, "production")
    assert [e.path for e in refused.value.errors] == ["/deps"]
    assert "python" in refused.value.errors[0].message
    registry.set_requirements(V1, {"python": ">=3.11"})
    assert _stage(registry, "production").state == "production"


def test_a_policy_change_is_an_event_and_reads_back(registry: Registry) -> None:
    assert registry.promotion_policy(NS).required_approvals == 0
    registry.set_promotion_policy(NS, {"required_approvals": 2,
                                       "require_verified_attestation": True})
    policy = registry.promotion_policy(NS)
    assert (policy.required_approvals, policy.require_verified_attestation,
            policy.updated_by) == (2, True, "tester")
    [event] = [e for e in registry.events().items
               if e.action == "namespace.promotion_policy_changed"]
    assert event.ref == "namespace:fraud" and event.payload["required_approvals"] == 2
    with pytest.raises(InvalidInput):
        registry.set_promotion_policy(NS, {"required_approvals": -1})


def test_comments_release_notes_and_reviews_are_recorded(registry: Registry) -> None:
    _world(registry)
    registry.comment_version(NS, "churn", 1, {"body": "looks good"}, principal=ADA)
    _stage(registry, "production", release_notes="first release", comment="ship it")
    page = registry.version_reviews(NS, "churn", 1, limit=2)
    assert [(r.kind, r.person, r.body) for r in page.items] == [
        ("comment", "ada", "looks good"), ("release_note", "mae", "first release")]
    rest = registry.version_reviews(NS, "churn", 1, cursor=page.next_cursor)
    assert [(r.kind, r.body) for r in rest.items] == [("comment", "ship it")]
    assert rest.next_cursor is None
    notes = registry.version_reviews(NS, "churn", 1, kind="release_note").items
    assert [r.stage for r in notes] == ["production"]
    [commented] = [e for e in registry.events(limit=500).items
                   if e.action == "review.commented"]
    assert commented.payload["body"] == "looks good" and commented.actor == "ada"
    [changed] = [e for e in registry.events(limit=500).items
                 if e.action == "version.stage_changed"]
    assert changed.payload["release_notes"] == "first release"


def test_concurrent_state_is_read_from_the_database(registry: Registry) -> None:
    """The stage lives in the asset row: a version moved by set_stage reads back so."""
    _world(registry)
    _stage(registry, "staging")
    with registry.db.read() as conn:
        stored = conn.execute(sa.select(assets.c.state, assets.c.revision)
                              .where(assets.c.kind == "model_version")).one()
    assert tuple(stored) == ("staging", 2)
