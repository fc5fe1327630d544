"""Roles x core operations, allowed and denied, on SQLite and PostgreSQL: every operation of
the service layer the API, SDK and CLI reach for assets, relations, model versions, runs,
withdrawal and namespace schemas, called as a viewer, contributor, maintainer and admin of
the namespace, through a group grant, with no role, with a role only in another team, and
with a ``read``-scoped token of a maintainer. Each denial leaves an ``access.denied``
event naming the caller and the action; a caller who may not read the asset is answered
as if it did not exist.

The table of operations (least role, how to call it) drives the matrix; the expected
outcome of each cell is derived from the role order, not written out by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from modelatlas.errors import Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Role
from modelatlas.registry import AssetCreate, AssetUpdate, Registry, RelationCreate
from modelatlas.registry.run_types import RunRecord
from modelatlas.registry.types import VersionRegistration
from modelatlas.store.tables import events

NS = "fraud"


@dataclass(frozen=True)
class Caller:
    label: str
    principal: Principal
    role: Role | None  # the role it holds in NS (through its grants)
    read_only: bool = False  # a read-scoped token


CALLERS = [
    Caller("viewer", Principal(kind="user", person="vic"), Role.VIEWER),
    Caller("contributor", Principal(kind="user", person="carl"), Role.CONTRIBUTOR),
    Caller("maintainer", Principal(kind="user", person="mae"), Role.MAINTAINER),
    Caller("admin", Principal(kind="user", person="ada"), Role.ADMIN),
    Caller("group-contributor",
           Principal(kind="user", person="gus", groups=frozenset({"risk"})), Role.CONTRIBUTOR),
    Caller("no-role", Principal(kind="user", person="nora"), None),
    Caller("other-team-admin", Principal(kind="user", person="otto"), None),
    Caller("maintainer-read-token",
           Principal(kind="token", person="mae", token_id="tok-r", scopes=frozenset({"read"})),
           Role.MAINTAINER, read_only=True),
]
GRANTS = [("user", "vic", "viewer"), ("user", "carl", "contributor"),
          ("user", "mae", "maintainer"), ("user", "ada", "admin"),
          ("group", "risk", "contributor")]


def seed(registry: Registry) -> None:
    """As the local user: the grants, and what the operations act on."""
    for kind, name, role in GRANTS:
        registry.grant_role(NS, {"principal_type": kind, "principal_name": name, "role": role})
    registry.grant_role("other", {"principal_type": "user", "principal_name": "otto",
                                  "role": "admin"})
    registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    registry.create_asset(AssetCreate(ref="dataset:fraud/gone@1"))
    registry.withdraw("dataset:fraud/gone@1", reason="corrupt rows")
    registry.register_version(NS, "churn", VersionRegistration(datasets=["dataset:fraud/txns@1"]))
    registry.set_namespace_schema(NS, "dataset", {"type": "object"})


def _fresh_dataset(registry: Registry, n: int) -> str:
    ref = f"dataset:fraud/fresh-{n}@1"
    registry.create_asset(AssetCreate(ref=ref))
    return ref


def _update(registry: Registry, p: Principal, n: int) -> object:
    current = registry.get_asset("dataset:fraud/txns@1")
    return registry.update_asset("dataset:fraud/txns@1", AssetUpdate(description=f"v{n}"),
                                 expected_revision=current.revision, principal=p)


def _link(registry: Registry, p: Principal, n: int) -> object:
    ref = _fresh_dataset(registry, n)
    return registry.add_relation(RelationCreate(source=ref, relation="derived_from",
                                                target="dataset:fraud/txns@1"), principal=p)


def _unlink(registry: Registry, p: Principal, n: int) -> object:
    ref = _fresh_dataset(registry, n)
    registry.add_relation(RelationCreate(source=ref, relation="derived_from",
                                         target="dataset:fraud/txns@1"))
    registry.remove_relation(ref, "derived_from", "dataset:fraud/txns@1", principal=p)
    return None


def _withdraw(registry: Registry, p: Principal, n: int) -> object:
    return registry.withdraw(_fresh_dataset(registry, n), reason="legal hold", principal=p)


Op = Callable[[Registry, Principal, int], object]


@dataclass(frozen=True)
class Operation:
    action: str
    role: Role
    call: Op
    write: bool
    # a caller who may not read the stored asset gets 404 (the asset "does not exist")
    on_asset: bool


OPERATIONS: dict[str, Operation] = {
    "get_asset": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.get_asset(
        "model_version:fraud/churn@1", principal=p), False, True),
    "history": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.history(
        "dataset:fraud/txns@1", principal=p), False, True),
    "relations": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.relations(
        "dataset:fraud/txns@1", principal=p), False, True),
    "list_versions": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.list_versions(
        NS, "churn", principal=p), False, True),
    "withdrawal": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.withdrawal(
        "dataset:fraud/gone@1", principal=p), False, True),
    "get_schema": Operation("asset.read", Role.VIEWER, lambda r, p, n: r.get_namespace_schema(
        NS, "dataset", principal=p), False, False),
    "create_asset": Operation("asset.create", Role.CONTRIBUTOR, lambda r, p, n: r.create_asset(
        AssetCreate(ref=f"dataset:fraud/new-{n}@1"), principal=p), True, False),
    "update_asset": Operation("asset.update", Role.CONTRIBUTOR, _update, True, True),
    "register_version": Operation("version.register", Role.CONTRIBUTOR,
                                  lambda r, p, n: r.register_version(
                                      NS, "churn", VersionRegistration(), principal=p),
                                  True, False),
    "record_run": Operation("asset.create", Role.CONTRIBUTOR, lambda r, p, n: r.record_run(
        RunRecord(ref=f"run:fraud/failed-{n}", datasets=["dataset:fraud/txns@1"]),
        principal=p), True, False),
    "add_relation": Operation("relation.add", Role.CONTRIBUTOR, _link, True, True),
    "remove_relation": Operation("relation.remove", Role.MAINTAINER, _unlink, True, True),
    "withdraw": Operation("dataset.withdraw", Role.MAINTAINER, _withdraw, True, True),
    "set_schema": Operation("schema.manage", Role.MAINTAINER,
                            lambda r, p, n: r.set_namespace_schema(
                                NS, "feature", {"type": "object"}, principal=p), True, False),
}


def allowed(caller: Caller, op: Operation) -> bool:
    if caller.read_only and op.write:
        return False
    return caller.role is not None and caller.role.covers(op.role)


def expected_error(caller: Caller, op: Operation) -> type[Exception]:
    can_read = caller.role is not None  # every role reads this namespace
    return NotFound if op.on_asset and (not can_read or not op.write) else Forbidden


def _answer(exc: Forbidden | NotFound) -> str:
    """What the caller sees: the HTTP status the error maps to."""
    return {403: "Forbidden", 404: "NotFound"}[exc.status]


def _denials(registry: Registry) -> list[tuple[str, str]]:
    with registry.db.read() as conn:
        rows = conn.execute(sa.select(events.c.actor, events.c.payload)
                            .where(events.c.action == "access.denied")
                            .order_by(events.c.seq)).all()
    return [(actor, json.loads(payload)["action"]) for actor, payload in rows]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_role_may_do_what_its_rank_allows(registry: Registry, name: str) -> None:
    op = OPERATIONS[name]
    seed(registry)
    outcomes: dict[str, str] = {}
    for n, caller in enumerate(CALLERS):
        before = _denials(registry)
        try:
            op.call(registry, caller.principal, n)
        except (Forbidden, NotFound) as exc:
            outcomes[caller.label] = _answer(exc)
            recorded = _denials(registry)[len(before):]
            # a refused read of the stored asset is recorded as what it is
            action = "asset.read" if isinstance(exc, NotFound) else op.action
            assert recorded == [(caller.principal.person, action)], (caller.label, recorded)
        else:
            outcomes[caller.label] = "ok"
            assert _denials(registry) == before
    expected = {c.label: "ok" if allowed(c, op) else expected_error(c, op).__name__
                for c in CALLERS}
    assert outcomes == expected
    # the matrix is not vacuous: someone is refused and someone allowed for each operation
    assert "ok" in outcomes.values() and set(outcomes.values()) != {"ok"}


def test_the_local_user_and_the_matrix_agree_on_who_wrote(registry: Registry) -> None:
    seed(registry)
    carl = CALLERS[1].principal
    created = registry.create_asset(AssetCreate(ref="dataset:fraud/by-carl@1"), actor="ignored",
                                    principal=carl)
    assert created.created_by == "carl"  # the authenticated caller, not the actor argument
    local = registry.create_asset(AssetCreate(ref="dataset:fraud/by-local@1"), actor="batch")
    assert local.created_by == "batch"


def _call_all(registry: Registry, p: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, (name, op) in enumerate(sorted(OPERATIONS.items())):
        try:
            op.call(registry, p, 100 + n)
            out[name] = "ok"
        except (Forbidden, NotFound) as exc:
            out[name] = _answer(exc)
    return out


def test_the_embedded_user_may_do_everything(registry: Registry) -> None:
    seed(registry)
    assert set(_call_all(registry, Principal.local("tester")).values()) == {"ok"}
    assert _denials(registry) == []
