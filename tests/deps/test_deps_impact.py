"""Impact analysis through the service layer, on both backends: package upgrades in an
environment, new feature versions, schema changes in several modes, transitively."""

from __future__ import annotations

import pytest
from deps_impact_world import (
    BATCH,
    FEATURE,
    SCHEMA,
    SCHEMA_V3_FIELDS,
    SERVING,
    create,
    declare,
    numpy,
    reasons,
    version,
)

from modelatlas.deps.model import Requirements
from modelatlas.errors import InvalidInput, ModelAtlasError, NotFound
from modelatlas.registry import AssetUpdate, Registry


def test_package_upgrade_in_environment_lists_broken_versions_and_their_deployments(
    world: Registry,
) -> None:
    found = world.impact({"environment": SERVING, "package": "NumPy", "to": "2.1.0"})
    assert found.kind == "package"
    assert found.summary == f"numpy 1.26.4 -> 2.1.0 in {SERVING}"
    # churn@2 admits 2.1.0; scorer runs in another environment; legacy's marker is false
    # on Python 3.11
    assert reasons(found.model_versions) == {
        "model_version:fraud/churn@1": [
            "numpy 2.1.0 does not satisfy <2 (fraud/churn@1, requirements.txt:3)"],
    }
    # the batch deployment serves churn@1 in another environment: not affected
    assert reasons(found.deployments) == {"deployment:fraud/churn-api": ["serves fraud/churn@1"]}
    assert found.deployments[0].via == "model_version:fraud/churn@1"
    assert not found.truncated


def test_registry_scope_covers_every_environment(world: Registry) -> None:
    found = world.impact({"environment": BATCH, "package": "numpy", "to": "2.0.0",
                          "scope": "registry"})
    assert sorted(reasons(found.model_versions)) == [
        "model_version:fraud/churn@1", "model_version:fraud/scorer@1"]
    assert reasons(found.model_versions)["model_version:fraud/scorer@1"] == [
        "numpy 2.0.0 does not satisfy <2 (fraud/scorer@1, requirements.txt:1)"]
    assert sorted(reasons(found.deployments)) == [
        "deployment:fraud/churn-api", "deployment:fraud/churn-batch"]


def test_markers_are_evaluated_against_the_environments_python(world: Registry) -> None:
    world.update_asset(SERVING, _patch_python("3.9.18"), expected_revision=1)
    found = world.impact({"environment": SERVING, "package": "numpy", "to": "2.1.0"})
    assert "model_version:fraud/legacy@1" in reasons(found.model_versions)


def test_an_admitted_version_breaks_nothing(world: Registry) -> None:
    found = world.impact({"environment": SERVING, "package": "numpy", "to": "1.26.5"})
    assert found.model_versions == [] and found.deployments == []


def test_limit_truncates(world: Registry) -> None:
    found = world.impact({"environment": BATCH, "package": "numpy", "to": "2.0.0",
                          "scope": "registry", "limit": 1})
    assert len(found.model_versions) == 1 and found.truncated


def test_new_feature_version_inside_and_outside_constraints_and_transitively(
    world: Registry,
) -> None:
    create(world, f"{FEATURE}@3")
    found = world.impact({"asset": f"{FEATURE}@3"})
    got = reasons(found.model_versions)
    assert got["model_version:fraud/churn@1"][0] == (
        "cannot use v3 (constraint >=2,<3; fraud/churn@1, registry.yaml:2)")
    # churn@1 also requires v2 and was trained on it
    assert (f"requires {FEATURE}@2; {FEATURE}@3 is registered: needs revalidation"
            in got["model_version:fraud/churn@1"])
    assert got["model_version:fraud/churn@2"] == [
        "will pick up v3: needs revalidation (constraint >=2; fraud/churn@2, registry.yaml:2)"]
    # a feature derived from v2, and the version that requires it (two hops)
    assert reasons(found.data)["feature:fraud/txn-velocity@1"] == [
        f"derived from {FEATURE}@2; {FEATURE}@3 is registered: needs revalidation"]
    velocity = next(v for v in found.model_versions
                    if v.ref == "model_version:fraud/velocity@1")
    assert velocity.via == "feature:fraud/txn-velocity@1" and velocity.depth == 2
    assert reasons(found.deployments) == {
        "deployment:fraud/churn-api": ["serves fraud/churn@1"],
        "deployment:fraud/churn-batch": ["serves fraud/churn@1"],
        "deployment:fraud/velocity-api": ["serves fraud/velocity@1"],
    }
    shallow = world.impact({"asset": f"{FEATURE}@3", "depth": 1})
    assert "model_version:fraud/velocity@1" not in reasons(shallow.model_versions)


def test_removed_field_is_backward_compatible_but_breaks_consumers(world: Registry) -> None:
    proposed = [f for f in SCHEMA_V3_FIELDS if f["name"] != "amount"]
    found = world.impact({"schema": SCHEMA, "fields": proposed})
    assert found.mode == "BACKWARD" and found.compatible is True
    breaking = ("field 'amount' removed (it was required without a default): "
                "a consumer that reads it gets no value")
    assert reasons(found.model_versions)["model_version:fraud/risk@1"] == [
        f"input schema {SCHEMA}@3 (fraud/risk@1, request), moving to {SCHEMA} (proposed): "
        + breaking]
    # the dataset conforming to v3, the version trained on it, the deployments serving it
    assert reasons(found.data) == {
        "dataset:fraud/transactions@5": [f"conforms to {SCHEMA}@3: {breaking}"]}
    assert reasons(found.model_versions)["model_version:fraud/churn@1"] == [
        f"trained on dataset:fraud/transactions@5 (conforms to {SCHEMA}@3: {breaking})"]
    assert sorted(reasons(found.deployments)) == [
        "deployment:fraud/churn-api", "deployment:fraud/churn-batch"]

    forward = world.impact({"schema": SCHEMA, "fields": proposed, "mode": "FORWARD"})
    assert forward.compatible is False
    assert forward.incompatibilities == [
        "field 'amount' removed (it was required without a default): readers using the old "
        f"schema cannot read new data, which lacks the field (FORWARD, against {SCHEMA}@3)"]


@pytest.mark.parametrize(
    ("mode", "compatible"),
    [("BACKWARD", False), ("FORWARD", True), ("FULL", False), ("NONE", True),
     ("BACKWARD_TRANSITIVE", False)],
)
def test_added_required_field_per_mode(world: Registry, mode: str, compatible: bool) -> None:
    proposed = [*SCHEMA_V3_FIELDS, {"name": "merchant", "type": "string", "nullable": False}]
    found = world.impact({"schema": SCHEMA, "fields": proposed, "mode": mode})
    assert found.compatible is compatible
    assert found.model_versions == []  # an added field breaks no consumer


def test_registered_schema_version_is_compared_with_the_previous_one(world: Registry) -> None:
    narrowed = [{**f, "type": "float"} if f["name"] == "amount" else f for f in SCHEMA_V3_FIELDS]
    create(world, f"{SCHEMA}@4", metadata={"fields": narrowed})
    found = world.impact({"asset": f"{SCHEMA}@4", "mode": "FULL"})
    assert found.compatible is False
    assert any("type narrowed from double to float" in i for i in found.incompatibilities)
    assert "model_version:fraud/risk@1" in reasons(found.model_versions)
    renamed = [{"name": "amount_eur", "type": "double", "nullable": False,
                "aliases": ["amount"]} if f["name"] == "amount" else f
               for f in SCHEMA_V3_FIELDS]
    unchanged = world.impact({"schema": SCHEMA, "fields": renamed})
    assert unchanged.compatible is True  # BACKWARD: the alias reads old data
    assert "renamed to 'amount_eur'" in reasons(unchanged.model_versions)[
        "model_version:fraud/risk@1"][0]


@pytest.mark.parametrize(
    ("change", "error", "path"),
    [
        ({"environment": "environment:platform/nope", "package": "numpy", "to": "2"},
         NotFound, "/environment"),
        ({"environment": SERVING, "package": "numpy"}, InvalidInput, "/to"),
        ({"environment": SERVING, "package": "numpy", "to": "two"}, InvalidInput, "/to"),
        ({"environment": SERVING, "package": "num py", "to": "2"}, InvalidInput, "/package"),
        ({"asset": f"{FEATURE}@9"}, NotFound, "/asset"),
        ({"asset": FEATURE}, InvalidInput, "/asset"),
        ({"schema": SCHEMA}, InvalidInput, "/fields"),
        ({"schema": SCHEMA, "fields": [{"name": "x"}]}, InvalidInput, "/fields/0/type"),
        ({"schema": "schema:fraud/none", "fields": []}, NotFound, "/schema"),
        ({"asset": f"{FEATURE}@2", "schema": SCHEMA}, InvalidInput, "/schema"),
        ({}, InvalidInput, "/"),
        ({"asset": f"{FEATURE}@2", "mode": "SIDEWAYS"}, InvalidInput, "/mode"),
    ],
)
def test_bad_changes_name_the_field(
    world: Registry, change: dict[str, object], error: type[ModelAtlasError], path: str
) -> None:
    with pytest.raises(error) as raised:
        world.impact(change)
    assert raised.value.errors[0].path == path


def _patch_python(python: str) -> AssetUpdate:
    return AssetUpdate(metadata={"python": python})


def test_markers_are_evaluated_against_the_environments_platform(registry: Registry) -> None:
    """An environment on linux/arm64 is judged as check judges it: sys_platform linux,
    platform_machine aarch64 (the raw 'linux/arm64' once leaked into the markers)."""
    create(registry, "environment:platform/arm", metadata={
        "python": "3.11.7", "platform": "linux/arm64", "packages": ["numpy==1.26.4"]})
    arm = version(registry, "arm-only", environment="environment:platform/arm")
    declare(registry, arm, Requirements(packages=(
        numpy("<2", marker='platform_machine == "aarch64" and sys_platform == "linux"'),)))
    x86 = version(registry, "x86-only", environment="environment:platform/arm")
    declare(registry, x86, Requirements(packages=(
        numpy("<2", marker='platform_machine == "x86_64"'),)))
    report = registry.impact({"environment": "environment:platform/arm", "package": "numpy",
                              "to": "2.1.0"})
    assert [v.ref for v in report.model_versions] == [arm]
