"""Revalidation marks on both backends: set in the transaction of the change that causes
them (new feature version, environment upgrade, new schema version), only for deployed
versions, each with a ``revalidation.needed`` event; cleared by a passing evaluation of the
version against the new dependency, never by a failing one."""

from __future__ import annotations

import pytest
from deps_impact_world import FEATURE, SCHEMA, SCHEMA_V3_FIELDS, SERVING, create, link

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import AssetUpdate, Registry
from modelatlas.registry.impact_types import RevalidationMark

CHURN1 = "model_version:fraud/churn@1"


def marks(registry: Registry, ref: str | None = None) -> dict[tuple[str, str], str]:
    return {(m.ref, m.cause): m.reason for m in registry.revalidation_marks(ref).items}


def events_of(registry: Registry, action: str) -> list[dict[str, object]]:
    return [e.payload for e in registry.events(limit=500).items if e.action == action]


def upgrade_numpy(registry: Registry, to: str = "2.1.0") -> None:
    current = registry.get_asset(SERVING)
    registry.update_asset(
        SERVING, AssetUpdate(metadata={"packages": [f"numpy=={to}", "pandas==2.2.2"]}),
        expected_revision=current.revision,
    )


def test_environment_upgrade_marks_deployed_versions_running_in_it(world: Registry) -> None:
    assert marks(world) == {}
    upgrade_numpy(world)
    moved = f"{SERVING} changed: numpy 1.26.4 -> 2.1.0"
    # churn@2 and legacy@1 run there too but are not deployed; scorer@1 runs elsewhere
    assert marks(world) == {
        (CHURN1, SERVING): f"{moved}; numpy 2.1.0 does not satisfy <2 (requirements.txt:3)",
        ("model_version:fraud/risk@1", SERVING): moved,
    }
    needed = events_of(world, "revalidation.needed")
    assert {(p["ref"], p["cause"]) for p in needed} == set(marks(world))
    by_seq = {e.seq: e for e in world.events(limit=500).items}
    for mark in world.revalidation_marks().items:
        event = by_seq[mark.event_seq]
        assert (event.action, event.ref) == ("revalidation.needed", mark.ref)
        # the upgrade's own event comes first, in the same transaction (same time)
        assert by_seq[mark.event_seq - 1].action in ("asset.updated", "revalidation.needed")
        assert event.time == world.get_asset(SERVING).updated_at


def test_a_change_without_package_changes_marks_nothing(world: Registry) -> None:
    world.update_asset(SERVING, AssetUpdate(description="the serving image"),
                       expected_revision=1)
    world.update_asset(SERVING, AssetUpdate(metadata={"packages": ["pandas==2.2.2",
                                                                  "numpy==1.26.4"]}),
                       expected_revision=2)
    assert marks(world) == {} and events_of(world, "revalidation.needed") == []


def test_a_second_upgrade_replaces_the_mark(world: Registry) -> None:
    upgrade_numpy(world, "1.26.5")
    first = world.revalidation_marks(CHURN1).items[0]
    upgrade_numpy(world, "2.1.0")
    [second] = world.revalidation_marks(CHURN1).items
    assert second.event_seq > first.event_seq and "1.26.5 -> 2.1.0" in second.reason


def test_new_feature_version_marks_deployed_versions_that_move_to_it(world: Registry) -> None:
    world.set_stage("fraud", "churn", 2, {"stage": "staging"})  # stages move by set_stage
    create(world, f"{FEATURE}@3")
    cause = f"{FEATURE}@3"
    got = marks(world)
    assert set(got) == {(CHURN1, cause), ("model_version:fraud/churn@2", cause)}
    assert got[("model_version:fraud/churn@2", cause)].startswith("will pick up v3")
    # churn@1 cannot use v3 by its constraint, but requires and trained on v2
    assert "cannot use" not in got[(CHURN1, cause)]
    assert f"requires {FEATURE}@2" in got[(CHURN1, cause)]


def test_nothing_is_marked_for_versions_that_are_not_deployed(world: Registry) -> None:
    world.update_asset(CHURN1, AssetUpdate(state="deprecated"), expected_revision=1)
    for name in ("churn-api", "churn-batch"):
        world.update_asset(f"deployment:fraud/{name}", AssetUpdate(state="retired"),
                           expected_revision=1)
    create(world, f"{FEATURE}@3")
    upgrade_numpy(world)
    assert CHURN1 not in {ref for ref, _ in marks(world)}


def test_new_schema_version_marks_its_deployed_consumers(world: Registry) -> None:
    added = [*SCHEMA_V3_FIELDS, {"name": "merchant", "type": "string"}]
    create(world, f"{SCHEMA}@4", metadata={"fields": added})
    got = marks(world)
    cause = f"{SCHEMA}@4"
    # risk@1 declares v3 as input schema; churn@1 trained on data conforming to v3
    assert set(got) == {("model_version:fraud/risk@1", cause), (CHURN1, cause)}
    assert "changes no field it reads" in got[("model_version:fraud/risk@1", cause)]


def evaluation(registry: Registry, name: str, passed: bool | None, *evidence: str) -> str:
    ref = f"evaluation:fraud/{name}"
    create(registry, ref, metadata={"passed": passed} if passed is not None else {})
    link(registry, ref, "evaluated", CHURN1)
    for target in evidence:
        link(registry, ref, "used", target)
    return ref


def test_a_passing_evaluation_against_the_new_dependency_clears_the_mark(
    world: Registry,
) -> None:
    upgrade_numpy(world)
    evaluation(world, "failing", False, SERVING)
    evaluation(world, "no-evidence", True)
    evaluation(world, "other-evidence", True, f"{FEATURE}@2")
    assert (CHURN1, SERVING) in marks(world)
    assert events_of(world, "revalidation.cleared") == []
    ref = evaluation(world, "passing", True, SERVING)
    assert (CHURN1, SERVING) not in marks(world)
    assert ("model_version:fraud/risk@1", SERVING) in marks(world)  # not evaluated
    assert events_of(world, "revalidation.cleared") == [
        {"ref": CHURN1, "cause": SERVING, "evaluation": ref}]


def test_a_verdict_that_arrives_last_clears_too(world: Registry) -> None:
    upgrade_numpy(world)
    ref = evaluation(world, "pending", None, SERVING)
    assert (CHURN1, SERVING) in marks(world)
    world.update_asset(ref, AssetUpdate(metadata={"passed": True}), expected_revision=1)
    assert (CHURN1, SERVING) not in marks(world)


def test_an_evaluation_from_before_the_change_does_not_clear(world: Registry) -> None:
    create(world, "evaluation:fraud/old", metadata={"passed": True})
    upgrade_numpy(world)
    link(world, "evaluation:fraud/old", "evaluated", CHURN1)
    link(world, "evaluation:fraud/old", "used", SERVING)
    assert (CHURN1, SERVING) in marks(world)


def test_marks_page_and_filter(world: Registry) -> None:
    upgrade_numpy(world)
    create(world, f"{FEATURE}@3")
    everything = world.revalidation_marks().items
    assert len(everything) == 3
    first = world.revalidation_marks(limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = world.revalidation_marks(cursor=first.next_cursor, limit=2)
    assert [*first.items, *rest.items] == everything and rest.next_cursor is None
    assert {m.cause for m in world.revalidation_marks(CHURN1).items} == {SERVING,
                                                                        f"{FEATURE}@3"}
    assert all(isinstance(m, RevalidationMark) for m in everything)
    assert world.revalidation_marks("model_version:fraud/scorer@1").items == []
    with pytest.raises(NotFound):
        world.revalidation_marks("model_version:fraud/nope@1")
    with pytest.raises(InvalidInput):
        world.revalidation_marks(cursor="not-a-cursor")
