"""The access decision as a pure function: the roles x actions matrix built from the action
table, token scopes, the local user, registry-wide roles, and the attribute rules."""

from __future__ import annotations

import pytest

from modelatlas.governance.policy import (
    NamespacePolicy,
    Target,
    decide,
)
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import ACTIONS, ROLES, ActionSpec, Role, Scope, scope_allows

ALICE = Principal(kind="user", person="alice", groups=frozenset({"fraud-team"}))
MATRIX = [(role, spec) for role in (None, *ROLES) for spec in ACTIONS.values()]


def _id(case: tuple[Role | None, ActionSpec]) -> str:
    role, spec = case
    return f"{role.value if role else 'none'}-{spec.name}"


@pytest.mark.parametrize("case", MATRIX, ids=[_id(c) for c in MATRIX])
def test_a_role_allows_exactly_the_actions_at_or_below_it(case: tuple[Role | None, ActionSpec]
                                                          ) -> None:
    role, spec = case
    name = spec.name
    decision = decide(ALICE, name, "fraud", role=role)
    expected = role is not None and role.rank >= spec.role.rank
    assert decision.allowed is expected, decision.reason
    if not expected:
        assert decision.needed is spec.role
        assert spec.role.value in decision.reason


def test_roles_are_ordered_and_every_action_names_one() -> None:
    assert [r.value for r in ROLES] == ["viewer", "contributor", "maintainer", "admin"]
    assert all(Role.ADMIN.covers(r) for r in ROLES)
    assert not Role.VIEWER.covers(Role.CONTRIBUTOR)
    # the brief's vocabulary is all there
    for name in ("asset.read", "asset.create", "version.register", "asset.update",
                 "alias.set", "alias.set_protected", "stage.change", "approval.give",
                 "relation.add", "grant.manage", "webhook.manage", "key.manage",
                 "token.manage", "audit.read"):
        assert name in ACTIONS


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        decide(ALICE, "asset.teleport", "fraud", role=Role.ADMIN)


@pytest.mark.parametrize("spec", list(ACTIONS.values()), ids=list(ACTIONS))
def test_a_read_token_of_an_admin_only_reads(spec: ActionSpec) -> None:
    token = Principal(kind="token", person="alice", token_id="tok1",
                      scopes=frozenset({"read"}))
    decision = decide(token, spec.name, "fraud", role=Role.ADMIN)
    assert decision.allowed is (spec.scope is Scope.READ)
    if not decision.allowed:
        assert "scopes" in decision.reason


def test_scopes_include_the_narrower_ones_and_unknown_scopes_grant_nothing() -> None:
    assert scope_allows(frozenset({"write"}), Scope.READ)
    assert not scope_allows(frozenset({"write"}), Scope.ADMIN)
    assert scope_allows(frozenset({"admin"}), Scope.WRITE)
    assert not scope_allows(frozenset({"everything"}), Scope.READ)
    assert not scope_allows(frozenset(), Scope.READ)
    assert scope_allows(None, Scope.ADMIN)  # an unnarrowed credential
    write_token = Principal(kind="token", person="bob", token_id="t", scopes=frozenset({"write"}))
    assert decide(write_token, "version.register", "fraud", role=Role.MAINTAINER).allowed
    assert not decide(write_token, "grant.manage", "fraud", role=Role.ADMIN).allowed


@pytest.mark.parametrize("name", list(ACTIONS))
def test_the_local_user_may_do_everything_without_a_grant(name: str) -> None:
    local = Principal.local("me")
    assert decide(local, name, "fraud", role=None).allowed


def test_a_protected_alias_needs_a_maintainer() -> None:
    champion = Target(alias="champion")
    assert not decide(ALICE, "alias.set", "fraud", role=Role.CONTRIBUTOR, target=champion).allowed
    denied = decide(ALICE, "alias.set", "fraud", role=Role.CONTRIBUTOR, target=champion)
    assert denied.needed is Role.MAINTAINER and "protected" in denied.reason
    assert decide(ALICE, "alias.set", "fraud", role=Role.MAINTAINER, target=champion).allowed
    staging = Target(alias="staging")
    assert decide(ALICE, "alias.set", "fraud", role=Role.CONTRIBUTOR, target=staging).allowed
    # the namespace decides which aliases are protected
    policy = NamespacePolicy(protected_aliases=frozenset({"prod"}))
    assert decide(ALICE, "alias.set", "fraud", role=Role.CONTRIBUTOR, target=champion,
                  policy=policy).allowed
    assert not decide(ALICE, "alias.set", "fraud", role=Role.CONTRIBUTOR,
                      target=Target(alias="prod"), policy=policy).allowed


@pytest.mark.parametrize(("role", "tags", "kind", "allowed"), [
    (Role.CONTRIBUTOR, frozenset(), "model_version", False),
    (Role.VIEWER, frozenset(), "model_version", False),
    (Role.CONTRIBUTOR, frozenset({"promoted"}), "model_version", True),
    (Role.CONTRIBUTOR, frozenset(), "dataset", True),  # only versions are held back
    (Role.MAINTAINER, frozenset(), "model_version", True),
])
def test_a_namespace_may_show_readers_only_promoted_versions(
        role: Role, tags: frozenset[str], kind: str, allowed: bool) -> None:
    policy = NamespacePolicy(contributors_read_promoted_only=True)
    target = Target(ref="model_version:fraud/churn@3", kind=kind, tags=tags)
    decision = decide(ALICE, "asset.read", "fraud", role=role, target=target, policy=policy)
    assert decision.allowed is allowed, decision.reason
    # without the setting every reader sees every version
    assert decide(ALICE, "asset.read", "fraud", role=role, target=target).allowed


@pytest.mark.parametrize("principal", [ALICE, Principal.local("me")], ids=["user", "local"])
def test_registered_versions_artifact_and_core_metadata_are_immutable_for_everyone(
        principal: Principal) -> None:
    registered = Target(kind="model_version", registered=True, fields=frozenset({"metadata"}))
    denied = decide(principal, "asset.update", "fraud", role=Role.ADMIN, target=registered)
    assert not denied.allowed and denied.needed is None
    assert "amendment" in denied.reason
    for field in ({"description"}, {"tags", "owners"}):
        target = Target(kind="model_version", registered=True, fields=frozenset(field))
        assert decide(principal, "asset.update", "fraud", role=Role.CONTRIBUTOR,
                      target=target).allowed
    # the amendment is its own action, for maintainers
    assert decide(ALICE, "version.amend", "fraud", role=Role.MAINTAINER,
                  target=registered).allowed
    assert not decide(ALICE, "version.amend", "fraud", role=Role.CONTRIBUTOR).allowed
