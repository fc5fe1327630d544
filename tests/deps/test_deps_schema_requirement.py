"""``schema:ns/name compatible-with N``: an asset requirement satisfied by the versions of
a schema that readers of version N can use, at registration, in check and in impact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.registry import AssetCreate, Registry, VersionRegistration

SCHEMA = "schema:fraud/transactions"
V3: list[dict[str, Any]] = [{"name": "id", "type": "long", "nullable": False},
                            {"name": "amount", "type": "double", "nullable": False}]
V4_ADDS_OPTIONAL = [*V3, {"name": "country", "type": "string"}]
V5_DROPS_AMOUNT = [V3[0]]


def _schemas(registry: Registry, *versions: list[dict[str, Any]]) -> None:
    for number, fields in enumerate(versions, start=3):
        registry.create_asset(AssetCreate(ref=f"{SCHEMA}@{number}",
                                          metadata={"fields": fields}))


def _register(registry: Registry, requirement: str) -> str:
    done = registry.register_version("fraud", "churn", VersionRegistration(
        requirements={"assets": [requirement]}))
    return done.model_version.ref


def test_the_newest_compatible_version_is_linked(registry: Registry) -> None:
    _schemas(registry, V3, V4_ADDS_OPTIONAL)
    ref = _register(registry, f"{SCHEMA} compatible-with 3")
    declared = registry.requirements(ref)
    assert [(a.ref, a.specifier) for a in declared.assets] == [
        (SCHEMA, "compatible-with 3 (backward)")]
    targets = {r.target for r in registry.relations(ref, direction="out").items
               if r.relation == "requires"}
    assert targets == {f"{SCHEMA}@4"}


def test_an_incompatible_newer_version_is_not_chosen(registry: Registry) -> None:
    _schemas(registry, V3, V4_ADDS_OPTIONAL, V5_DROPS_AMOUNT)
    # FORWARD: readers of v3 must read data written with the new version; v5 lacks amount
    ref = _register(registry, f"{SCHEMA} compatible-with 3 (forward)")
    targets = {r.target for r in registry.relations(ref, direction="out").items
               if r.relation == "requires"}
    assert targets == {f"{SCHEMA}@4"}
    report = registry.impact({"asset": f"{SCHEMA}@5"})
    reasons = {v.ref: v.reasons for v in report.model_versions}
    assert any("field 'amount' removed" in r for r in reasons[ref])


@pytest.mark.parametrize(("requirement", "message"), [
    (f"{SCHEMA} compatible-with 9", "does not exist"),
    (f"{SCHEMA} compatible-with 3 (sideways)", "unknown compatibility mode"),
    ("feature:fraud/x compatible-with 3", "constrains a schema"),
    (f"{SCHEMA} compatible-with three", "compatible-with N"),
])
def test_bad_constraints_are_refused_naming_the_field(
    registry: Registry, event_count: Callable[[], int], requirement: str, message: str
) -> None:
    _schemas(registry, V3)
    before = event_count()
    with pytest.raises(InvalidInput, match=message) as caught:
        _register(registry, requirement)
    assert caught.value.errors[0].path == "/requirements/assets/0"
    assert event_count() == before
