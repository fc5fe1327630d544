"""Model aliases through the service layer, on SQLite and PostgreSQL: a contributor may set
``challenger`` but not the protected ``champion`` (denied, and recorded), a maintainer may;
an alias points only at a version of its own model; ``model_version:ns/name@alias``
resolves where an asset is read; setting, moving and removing are events."""

from __future__ import annotations

import pytest

from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry, VersionRegistration

CARL = Principal(kind="user", person="carl")  # contributor of fraud
MAE = Principal(kind="user", person="mae")  # maintainer of fraud
OTTO = Principal(kind="user", person="otto")  # no role in fraud


def _world(registry: Registry) -> None:
    for person, role in (("carl", "contributor"), ("mae", "maintainer")):
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                      "role": role})
    for _ in range(2):
        registry.register_version("fraud", "churn", VersionRegistration())
    registry.register_version("fraud", "other", VersionRegistration())


def test_a_contributor_sets_challenger_but_only_a_maintainer_sets_champion(
        registry: Registry) -> None:
    _world(registry)
    alias = registry.set_alias("fraud", "churn", "challenger", {"version": 2}, principal=CARL)
    assert (alias.model, alias.version, alias.set_by) == (
        "model:fraud/churn", "model_version:fraud/churn@2", "carl")
    with pytest.raises(Forbidden, match="protected") as denied:
        registry.set_alias("fraud", "churn", "champion", {"version": 1}, principal=CARL)
    assert denied.value.required_role == "maintainer"
    last = registry.events().items[-1]
    assert (last.action, last.actor, last.payload["action"]) == ("access.denied", "carl",
                                                                 "alias.set")
    with pytest.raises(Forbidden):  # removing is the same right as setting
        registry.remove_alias("fraud", "churn", "champion", principal=CARL)
    registry.set_alias("fraud", "churn", "champion",
                       {"version": "model_version:fraud/churn@1"}, principal=MAE)
    moved = registry.set_alias("fraud", "churn", "champion", {"version": 2}, principal=MAE)
    assert moved.version == "model_version:fraud/churn@2"
    events = [e for e in registry.events(limit=500).items if e.action.startswith("alias.")]
    assert [(e.action, e.ref, e.payload) for e in events] == [
        ("alias.set", "model:fraud/churn", {"alias": "challenger", "previous": None,
                                            "version": "model_version:fraud/churn@2"}),
        ("alias.set", "model:fraud/churn", {"alias": "champion", "previous": None,
                                            "version": "model_version:fraud/churn@1"}),
        ("alias.set", "model:fraud/churn", {"alias": "champion",
                                            "previous": "model_version:fraud/churn@1",
                                            "version": "model_version:fraud/churn@2"}),
    ]
    before = len(registry.events(limit=500).items)
    registry.set_alias("fraud", "churn", "champion", {"version": 2}, principal=MAE)
    assert len(registry.events(limit=500).items) == before  # already so: nothing happens
    # a caller with no role in the namespace is refused (the model is readable to no one
    # outside it, so it is answered as missing)
    with pytest.raises(NotFound):
        registry.set_alias("fraud", "churn", "challenger", {"version": 1}, principal=OTTO)


def test_an_alias_points_only_at_a_version_of_its_model(registry: Registry) -> None:
    _world(registry)
    with pytest.raises(InvalidInput) as wrong:
        registry.set_alias("fraud", "churn", "champion",
                           {"version": "model_version:fraud/other@1"})
    assert wrong.value.status == 422 and wrong.value.errors[0].path == "/version"
    with pytest.raises(InvalidInput):
        registry.set_alias("fraud", "churn", "champion", {"version": "dataset:fraud/x@1"})
    with pytest.raises(NotFound) as missing:
        registry.set_alias("fraud", "churn", "champion", {"version": 9})
    assert missing.value.errors[0].path == "/version"
    for bad in ("7", "Champion", "-x", "a" * 65, "x.y"):
        with pytest.raises(InvalidInput) as named:
            registry.set_alias("fraud", "churn", bad, {"version": 1})
        assert named.value.errors[0].path == "/alias"


def test_an_alias_resolves_where_a_version_is_read(registry: Registry) -> None:
    _world(registry)
    registry.set_alias("fraud", "churn", "champion", {"version": 1})
    registry.set_alias("fraud", "churn", "challenger", {"version": 2})
    assert registry.get_asset("model_version:fraud/churn@champion").ref == \
        "model_version:fraud/churn@1"
    assert registry.get_alias("fraud", "churn", "challenger").ref == \
        "model_version:fraud/churn@2"
    assert [(a.alias, a.version) for a in registry.aliases("fraud", "churn").items] == [
        ("challenger", "model_version:fraud/churn@2"),
        ("champion", "model_version:fraud/churn@1")]
    with pytest.raises(NotFound):  # an alias of another model does not resolve here
        registry.get_asset("model_version:fraud/other@champion")
    with pytest.raises(NotFound):  # nor does it reach a caller who may not read the version
        registry.get_asset("model_version:fraud/churn@champion", principal=OTTO)
    registry.remove_alias("fraud", "churn", "champion")
    last = registry.events().items[-1]
    assert (last.action, last.payload) == ("alias.removed", {
        "alias": "champion", "version": None, "previous": "model_version:fraud/churn@1"})
    with pytest.raises(NotFound):
        registry.get_asset("model_version:fraud/churn@champion")
    with pytest.raises(NotFound):
        registry.remove_alias("fraud", "churn", "champion")
