"""Every denied attempt is an event, in a transaction of its own (it survives the refused
operation) and so a leaf of the audit log; and what a caller may read, as the SQL condition
search and lineage filter with, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from modelatlas.errors import Forbidden
from modelatlas.governance.grants import readable_clause
from modelatlas.governance.policy import AccessDenied, Target
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, ModelSpec, Registry, VersionRegistration
from modelatlas.store.tables import assets

ALICE = Principal(kind="user", person="alice", groups=frozenset({"risk"}))


def _grant(registry: Registry, namespace: str, kind: str, name: str, role: str) -> None:
    registry.grant_role(namespace, {"principal_type": kind, "principal_name": name,
                                    "role": role})


def test_a_denied_attempt_is_an_event_in_the_audit_log(registry: Registry) -> None:
    _grant(registry, "fraud", "user", "alice", "viewer")
    token = Principal(kind="token", person="alice", token_id="tok-9",
                      scopes=frozenset({"read"}))
    with pytest.raises(Forbidden) as denied:
        registry.authorize(token, "version.register", "fraud", ref="model:fraud/churn")
    problem = denied.value.problem("/api/v1/models/fraud/churn/versions")
    assert problem["status"] == 403 and problem["code"] == "forbidden"
    assert problem["action"] == "version.register" and problem["required_role"] == "contributor"
    event = registry.events().items[-1]
    assert (event.action, event.actor, event.ref) == ("access.denied", "alice",
                                                      "model:fraud/churn")
    assert event.payload == {"action": "version.register", "namespace": "fraud",
                             "reason": "the credential's scopes do not include write",
                             "required_role": "contributor", "principal_kind": "token",
                             "token_id": "tok-9"}
    proof = registry.audit_inclusion_proof(event.seq)
    proof.verify()
    assert proof.seq == event.seq


def test_a_denial_without_a_target_names_the_namespace(registry: Registry) -> None:
    with pytest.raises(Forbidden, match="holds no role"):
        registry.authorize(Principal(kind="user", person="mallory"), "audit.read", "fraud")
    event = registry.events().items[-1]
    assert (event.action, event.ref, event.actor) == ("access.denied", "namespace:fraud",
                                                      "mallory")
    # the detail speaks of the caller's own role only, never of who else holds what
    _grant(registry, "fraud", "user", "alice", "admin")
    with pytest.raises(Forbidden) as denied:
        registry.authorize(Principal(kind="user", person="mallory"), "grant.read", "fraud")
    assert "alice" not in denied.value.diagnosis()


def test_a_denial_inside_a_transaction_is_recorded_after_it_rolls_back(
        registry: Registry) -> None:
    """The wiring for checks that need the row: the refused write leaves nothing, the
    denial stays (and on SQLite's single writer the two never wait on each other)."""
    _grant(registry, "fraud", "user", "alice", "contributor")
    before = len(registry.events().items)
    with pytest.raises(AccessDenied), registry.denials_recorded(), registry._write("alice") as tx:
        tx.conn.execute(assets.insert().values(
            kind="dataset", namespace="fraud", name="half-written", version="", owners=[],
            tags=[], meta={}, custom={}, schema_version=1, state="active", digests={},
            revision=1, created_at=tx.now, created_by="alice", updated_at=tx.now,
            updated_by="alice"))
        registry.check_access(tx.conn, ALICE, "alias.set", "fraud",
                              Target(ref="model:fraud/churn", alias="champion"))
    events = registry.events().items
    assert [e.action for e in events[before:]] == ["access.denied"]
    assert "protected" in events[-1].payload["reason"]
    with registry.db.read() as conn:
        assert conn.execute(sa.select(assets.c.id)
                            .where(assets.c.name == "half-written")).first() is None


def test_an_allowed_check_records_nothing(registry: Registry) -> None:
    _grant(registry, "fraud", "group", "risk", "maintainer")
    before = len(registry.events().items)
    decision = registry.authorize(ALICE, "stage.change", "fraud")
    assert decision.allowed and decision.role is not None and decision.role.value == "maintainer"
    out = registry.access_decision(ALICE, "grant.manage", "fraud")
    assert (out.allowed, out.required_role, out.role) == (False, "admin", "maintainer")
    assert len(registry.events().items) == before  # a question is not an attempt


def _arrange_catalogue(registry: Registry) -> None:
    for ref in ("dataset:fraud/tx@1", "dataset:growth/clicks@1", "dataset:hr/salaries@1"):
        registry.create_asset(AssetCreate(ref=ref))
    for ns in ("fraud", "growth"):
        registry.register_version(ns, "churn", VersionRegistration(
            tags=["promoted"], model=ModelSpec()))
        registry.register_version(ns, "churn", VersionRegistration(tags=["candidate"]))
    registry.set_namespace_policy("growth", {"contributors_read_promoted_only": True})


def _visible(registry: Registry, principal: Principal) -> set[str]:
    readable = registry.readable(principal)
    with registry.db.read() as conn:
        rows = conn.execute(sa.select(assets.c.kind, assets.c.namespace, assets.c.name,
                                      assets.c.version, assets.c.tags)
                            .where(readable_clause(readable, assets))).all()
    found = {f"{r.kind}:{r.namespace}/{r.name}" + (f"@{r.version}" if r.version else "")
             for r in rows}
    # the Python twin agrees with the SQL, row by row
    with registry.db.read() as conn:
        every = conn.execute(sa.select(assets)).all()
    twin = {f"{r.kind}:{r.namespace}/{r.name}" + (f"@{r.version}" if r.version else "")
            for r in every if readable.allows(r.namespace, r.kind, r.tags)}
    assert found == twin
    return found


ALL_GROWTH = {"dataset:growth/clicks@1", "model:growth/churn", "model_version:growth/churn@1",
              "model_version:growth/churn@2"}
PROMOTED_GROWTH = ALL_GROWTH - {"model_version:growth/churn@2"}
ALL_FRAUD = {"dataset:fraud/tx@1", "model:fraud/churn", "model_version:fraud/churn@1",
             "model_version:fraud/churn@2"}


@pytest.mark.parametrize(("grants", "principal", "expected"), [
    ([], ALICE, set()),
    ([("fraud", "user", "alice", "viewer")], ALICE, ALL_FRAUD),
    ([("growth", "group", "risk", "contributor")], ALICE, PROMOTED_GROWTH),
    ([("growth", "user", "alice", "maintainer")], ALICE, ALL_GROWTH),
    ([("*", "user", "alice", "viewer")], ALICE,
     ALL_FRAUD | PROMOTED_GROWTH | {"dataset:hr/salaries@1"}),
    ([("*", "user", "alice", "viewer"), ("growth", "user", "alice", "maintainer")], ALICE,
     ALL_FRAUD | ALL_GROWTH | {"dataset:hr/salaries@1"}),
    ([("*", "group", "risk", "maintainer")], ALICE,
     ALL_FRAUD | ALL_GROWTH | {"dataset:hr/salaries@1"}),
    ([("fraud", "token", "t-1", "viewer")],
     Principal(kind="token", person="bob", token_id="t-1", scopes=frozenset({"read"})),
     ALL_FRAUD),
    ([("fraud", "user", "bob", "admin")],
     Principal(kind="token", person="bob", token_id="t-2", scopes=frozenset({"bogus"})),
     set()),
], ids=["nothing", "viewer", "group-promoted-only", "maintainer", "everywhere-viewer",
        "everywhere-plus-maintainer", "everywhere-maintainer", "token", "token-no-scope"])
def test_what_a_caller_may_read_is_one_sql_condition(
        registry: Registry, grants: list[tuple[str, str, str, str]], principal: Principal,
        expected: set[str]) -> None:
    _arrange_catalogue(registry)
    for grant in grants:
        _grant(registry, *grant)
    assert _visible(registry, principal) == expected
    assert len(_visible(registry, Principal.local("me"))) == 9


def test_the_local_user_is_refused_only_what_nobody_may_do(registry: Registry) -> None:
    assert registry.authorize(None, "grant.manage", "fraud").allowed
    with pytest.raises(Forbidden, match="amendment"):
        registry.authorize(None, "asset.update", "fraud", ref="model_version:fraud/churn@1",
                           kind="model_version", registered=True,
                           fields=frozenset({"digests"}))
    event = registry.events().items[-1]
    assert (event.action, event.actor, event.payload["principal_kind"]) == (
        "access.denied", "tester", "local")
    assert event.payload["required_role"] is None
