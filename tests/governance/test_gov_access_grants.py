"""Grants and policies stored on SQLite and PostgreSQL: the roles x actions matrix through
the service layer, groups, tokens, registry-wide roles, and who may manage grants."""

from __future__ import annotations

import pytest

from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import ACTIONS, ROLES, Role
from modelatlas.registry import Registry

ALICE = Principal(kind="user", person="alice")


def _grant(registry: Registry, namespace: str, kind: str, name: str, role: str) -> None:
    registry.grant_role(namespace, {"principal_type": kind, "principal_name": name,
                                    "role": role})


def _allowed(registry: Registry, principal: Principal, action: str, namespace: str) -> bool:
    try:
        registry.authorize(principal, action, namespace)
    except Forbidden:
        return False
    return True


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_the_matrix_of_a_stored_role(registry: Registry, role: Role) -> None:
    _grant(registry, "fraud", "user", "alice", role.value)
    assert registry.effective_role(ALICE, "fraud") is role
    for spec in ACTIONS.values():
        assert _allowed(registry, ALICE, spec.name, "fraud") is role.covers(spec.role), spec.name
        # a role in one namespace is no role in another
        assert not _allowed(registry, ALICE, spec.name, "growth"), spec.name


def test_the_highest_of_user_group_token_and_registry_wide_grants_counts(
        registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "viewer")
    _grant(registry, "fraud", "group", "risk", "maintainer")
    _grant(registry, "fraud", "token", "tok-1", "contributor")
    _grant(registry, "*", "group", "auditors", "viewer")
    assert registry.effective_role(ALICE, "fraud") is Role.VIEWER
    in_group = Principal(kind="user", person="alice", groups=frozenset({"risk"}))
    assert registry.effective_role(in_group, "fraud") is Role.MAINTAINER
    token = Principal(kind="token", person="carol", token_id="tok-1")
    assert registry.effective_role(token, "fraud") is Role.CONTRIBUTOR
    auditor = Principal(kind="user", person="dave", groups=frozenset({"auditors"}))
    assert registry.effective_role(auditor, "growth") is Role.VIEWER
    assert registry.effective_role(Principal(kind="user", person="eve"), "fraud") is None
    assert registry.effective_role(None, "fraud") is Role.ADMIN  # the local user


def test_a_token_narrows_its_person(registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "maintainer")
    reader = Principal(kind="token", person="alice", token_id="t1",
                       scopes=frozenset({"read"}))
    assert _allowed(registry, reader, "asset.read", "fraud")
    assert not _allowed(registry, reader, "version.register", "fraud")


def test_a_registry_wide_admin_manages_every_namespace(registry: Registry) -> None:
    root = Principal(kind="user", person="root")
    _grant(registry, "*", "user", "root", "admin")
    registry.grant_role("growth", {"principal_type": "user", "principal_name": "alice",
                                   "role": "contributor"}, principal=root)
    assert registry.effective_role(ALICE, "growth") is Role.CONTRIBUTOR
    # a namespace admin is no registry-wide admin
    _grant(registry, "fraud", "user", "alice", "admin")
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "bob",
                                  "role": "viewer"}, principal=ALICE)
    with pytest.raises(Forbidden) as denied:
        registry.grant_role("*", {"principal_type": "user", "principal_name": "alice",
                                  "role": "admin"}, principal=ALICE)
    assert denied.value.status == 403 and denied.value.required_role == "admin"
    assert denied.value.problem()["action"] == "grant.manage"


def test_granting_again_replaces_and_revoking_removes(registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "viewer")
    _grant(registry, "fraud", "user", "alice", "viewer")  # no change, no event
    _grant(registry, "fraud", "user", "alice", "maintainer")
    grants = registry.list_grants("fraud")
    assert [(g.principal_name, g.role, g.created_by) for g in grants] == [
        ("alice", "maintainer", "tester")]
    removed = registry.revoke_role("fraud", "user", "alice")
    assert removed.role == "maintainer"
    assert registry.list_grants("fraud") == []
    assert registry.effective_role(ALICE, "fraud") is None
    with pytest.raises(NotFound):
        registry.revoke_role("fraud", "user", "alice")
    actions = [(e.action, e.ref, e.payload.get("role"), e.payload.get("previous_role"))
               for e in registry.events().items]
    assert actions == [("role.granted", "namespace:fraud", "viewer", None),
                       ("role.granted", "namespace:fraud", "maintainer", "viewer"),
                       ("role.revoked", "namespace:fraud", "maintainer", None)]


def test_only_an_admin_manages_grants_and_policies(registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "maintainer")
    body = {"principal_type": "user", "principal_name": "bob", "role": "viewer"}
    with pytest.raises(Forbidden, match=r"grant\.manage"):
        registry.grant_role("fraud", body, principal=ALICE)
    with pytest.raises(Forbidden):
        registry.revoke_role("fraud", "user", "alice", principal=ALICE)
    with pytest.raises(Forbidden, match=r"policy\.manage"):
        registry.set_namespace_policy("fraud", {"protected_aliases": []}, principal=ALICE)
    # members may read who is on the team and the policy; outsiders may not
    assert [g.principal_name for g in registry.list_grants("fraud", principal=ALICE)] == [
        "alice"]
    assert registry.namespace_policy("fraud", principal=ALICE).protected_aliases == ["champion"]
    with pytest.raises(Forbidden):
        registry.list_grants("fraud", principal=Principal(kind="user", person="mallory"))
    assert registry.list_grants("fraud")[0].role == "maintainer"  # nothing was changed


@pytest.mark.parametrize(("namespace", "body", "path"), [
    ("fraud", {"principal_type": "robot", "principal_name": "x", "role": "viewer"},
     "/principal_type"),
    ("fraud", {"principal_type": "user", "principal_name": "x", "role": "owner"}, "/role"),
    ("fraud", {"principal_type": "user", "principal_name": " x", "role": "viewer"},
     "/principal_name"),
    ("fraud", {"principal_type": "user", "principal_name": "", "role": "viewer"},
     "/principal_name"),
    ("Not A Namespace", {"principal_type": "user", "principal_name": "x", "role": "viewer"},
     "/namespace"),
])
def test_bad_grants_are_refused_with_the_field(registry: Registry, namespace: str,
                                               body: dict[str, str], path: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        registry.grant_role(namespace, body)
    assert [e.path for e in refused.value.errors] == [path]
    assert registry.events().items == []


def test_policies_are_stored_and_steer_decisions(registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "contributor")
    assert not _allowed_alias(registry, "champion")
    assert _allowed_alias(registry, "staging")
    stored = registry.set_namespace_policy(
        "fraud", {"protected_aliases": ["prod", "prod", "staging"],
                  "contributors_read_promoted_only": True})
    assert stored.protected_aliases == ["prod", "staging"]
    assert stored.contributors_read_promoted_only and stored.updated_by == "tester"
    assert registry.namespace_policy("fraud") == stored
    assert _allowed_alias(registry, "champion")
    assert not _allowed_alias(registry, "staging")
    with pytest.raises(Forbidden, match="promoted"):
        registry.authorize(ALICE, "asset.read", "fraud", kind="model_version",
                           ref="model_version:fraud/churn@2", tags=frozenset({"candidate"}))
    registry.authorize(ALICE, "asset.read", "fraud", kind="model_version",
                       tags=frozenset({"promoted"}))
    changed = [e for e in registry.events().items if e.action == "namespace.policy_changed"]
    assert changed[0].payload == {"protected_aliases": ["prod", "staging"],
                                  "contributors_read_promoted_only": True}


def _allowed_alias(registry: Registry, alias: str) -> bool:
    try:
        registry.authorize(ALICE, "alias.set", "fraud", alias=alias)
    except Forbidden:
        return False
    return True
