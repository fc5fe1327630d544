"""Deprecating a model version in the service layer, on both backends: the plan, the events
(one per consumer namespace, naming only that namespace's consumers), the report of
deployments still serving deprecated versions, role denials, bad input, revising and
withdrawing. One world per backend, built once for the module (the tests that write
touch only the versions they own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelatlas.errors import Forbidden, InvalidInput, ModelAtlasError, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Event, Registry, RelationCreate
from modelatlas.registry.deprecation_types import parse_time
from modelatlas.registry.types import VersionRegistration
from worlds import Worlds

V1, V2, V3, V4 = (f"model_version:fraud/churn@{n}" for n in (1, 2, 3, 4))
ADA = Principal(kind="user", person="ada")  # maintainer of fraud
CARL = Principal(kind="user", person="carl")  # contributor in fraud
SAM = Principal(kind="user", person="sam")  # viewer of fraud and shop
RITA = Principal(kind="user", person="rita")  # maintainer of risk only
PAM = Principal(kind="user", person="pam")  # viewer of bank and *: pulled V1
SOON = datetime.now(UTC) + timedelta(days=30)
LATER = datetime.now(UTC) + timedelta(days=400)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _build(registry: Registry) -> None:
    for ns, person, role in (("fraud", "ada", "maintainer"), ("fraud", "carl", "contributor"),
                             ("fraud", "sam", "viewer"), ("shop", "sam", "viewer"),
                             ("risk", "rita", "maintainer"), ("bank", "pam", "viewer"),
                             ("*", "pam", "viewer")):
        registry.grant_role(ns, {"principal_type": "user", "principal_name": person,
                                 "role": role})
    registry.create_asset(AssetCreate(ref="dataset:fraud/tx@1"))
    for _ in range(4):
        registry.register_version("fraud", "churn",
                                  VersionRegistration(datasets=["dataset:fraud/tx@1"]))
    for ref, state in (("deployment:shop/api", "active"), ("deployment:fraud/batch", "active"),
                       ("deployment:lab/canary", "active"), ("deployment:shop/old", "retired"),
                       ("deployment:shop/web", "active"), ("deployment:ops/legacy", "active"),
                       ("run:lab/bench", None)):
        registry.create_asset(AssetCreate(ref=ref, state=state))
    for source, relation, target in (
            ("deployment:shop/api", "serves", V1), ("deployment:fraud/batch", "serves", V1),
            ("deployment:lab/canary", "serves", V1), ("deployment:shop/old", "serves", V1),
            ("run:lab/bench", "used", V1), ("deployment:shop/web", "serves", V3),
            ("deployment:ops/legacy", "serves", V4)):
        registry.add_relation(RelationCreate(source=source, relation=relation, target=target))
    registry.register_version("risk", "tuned", VersionRegistration(derived_from=[V1]))
    for _ in range(2):  # pulled twice by pam, once by sam: a person counts once
        registry.record_usage("pulled", V1, principal=PAM)
    registry.record_usage("pulled", V1, principal=SAM)
    registry.deprecate(V1, {"sunset": _day(SOON), "reason": "leaks a feature",
                            "replacement": V2}, principal=ADA)
    registry.deprecate(V3, {"sunset": _day(LATER), "reason": "superseded"})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    with world_cache.shared(request.param, _build) as registry:
        yield registry

def _events(registry: Registry, action: str, principal: Principal | None = None) -> list[Event]:
    found, after = [], 0
    while True:
        page = registry.events(after=after, limit=500, principal=principal)
        found += [e for e in page.items if e.action == action]
        if not page.items or page.next_cursor is None:
            return found
        after = page.items[-1].seq


def _about(found: list[Event], ref: str) -> list[Event]:
    return [e for e in found if e.payload.get("deprecated", e.payload.get("ref")) == ref]


def test_the_plan_is_recorded_with_the_consumers_it_found(world: Registry) -> None:
    plan = world.deprecation(V1)
    assert (plan.ref, plan.reason, plan.replacement) == (V1, "leaks a feature", V2)
    assert plan.sunset == f"{_day(SOON)}T00:00:00.000000Z"
    assert plan.announced_by == "ada" and plan.announced_at == plan.changed_at
    # direct consumers: four deployments (one retired: still an edge), a derived version,
    # a run that used it; in five namespaces
    assert {c.kind: c.count for c in plan.consumers} == {
        "deployment": 4, "model_version": 1, "run": 1, "people_who_pulled": 2}
    assert plan.notified_namespaces == 5  # bank: only pam pulled it there
    assert world.deprecation_notice(V2) is None
    assert world.get_asset(V1).state == "registered"  # the stage is not touched


def test_one_notice_per_consumer_namespace_names_only_its_own(world: Registry) -> None:
    deprecated = _about(_events(world, "version.deprecated"), V1)
    assert [e.payload["status"] for e in deprecated] == ["announced"]
    assert deprecated[0].payload["consumers"] == {"deployment": 4, "model_version": 1,
                                                  "run": 1, "people_who_pulled": 2}
    assert "deployment:shop/api" not in str(deprecated[0].payload)  # counts, never names
    notices = {e.ref: e.payload for e in _about(_events(world, "deprecation.notice"), V1)}
    assert sorted(notices) == ["namespace:bank", "namespace:fraud", "namespace:lab",
                               "namespace:risk", "namespace:shop"]
    # the teams of the people who pulled it, each told of its own people only ("*" is no
    # team; a pull counts its person once)
    assert {ref: (p["pulled_by"], p["pulled_count"]) for ref, p in notices.items()} == {
        "namespace:bank": (["pam"], 1), "namespace:fraud": (["sam"], 1),
        "namespace:lab": ([], 0), "namespace:risk": ([], 0), "namespace:shop": (["sam"], 1)}
    assert notices["namespace:bank"]["consumers"] == []
    assert notices["namespace:shop"]["consumers"] == ["deployment:shop/api",
                                                      "deployment:shop/old"]
    assert notices["namespace:lab"]["consumers"] == ["deployment:lab/canary", "run:lab/bench"]
    assert notices["namespace:risk"]["consumers"] == ["model_version:risk/tuned@1"]
    for ref, payload in notices.items():
        namespace = ref.removeprefix("namespace:")
        assert all(f":{namespace}/" in c for c in payload["consumers"])
        assert (payload["sunset"], payload["replacement"]) == (
            f"{_day(SOON)}T00:00:00.000000Z", V2)


def test_a_consumer_team_reads_its_own_notice_and_no_other(world: Registry) -> None:
    seen = _about(_events(world, "deprecation.notice", principal=RITA), V1)
    assert [e.ref for e in seen] == ["namespace:risk"]
    assert _events(world, "deprecation.notice", principal=SAM) == []  # a viewer: no audit


def test_the_report_puts_past_sunsets_first_and_hides_what_the_caller_cannot_read(
        world: Registry) -> None:
    between = SOON + timedelta(days=2)  # V1's sunset has passed, V3's has not
    page = world.deprecated_deployments(now=between)
    rows = [(r.deployment, r.version, r.past_sunset) for r in page.items
            if r.version in (V1, V3)]
    # earliest sunset first, then the deployments in the order they were made
    assert rows == [("deployment:shop/api", V1, True), ("deployment:fraud/batch", V1, True),
                    ("deployment:lab/canary", V1, True), ("deployment:shop/web", V3, False)]
    first = page.items[0]
    assert first.days_left < 0 and first.replacement == V2 and first.reason
    assert "deployment:shop/old" not in {r.deployment for r in page.items}  # retired
    visible = world.deprecated_deployments(principal=SAM).items
    assert {r.deployment for r in visible} == {"deployment:shop/api", "deployment:fraud/batch",
                                               "deployment:shop/web"}
    assert world.deprecated_deployments(principal=RITA).items == []  # reads no version


def test_the_report_pages_with_a_cursor(world: Registry) -> None:
    whole = world.deprecated_deployments().items
    walked, cursor = [], None
    while True:
        page = world.deprecated_deployments(cursor=cursor, limit=1)
        walked += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == whole and len(whole) >= 4
    with pytest.raises(InvalidInput) as bad:
        world.deprecated_deployments(cursor="nonsense")
    assert bad.value.errors[0].path == "/cursor"


def test_a_contributor_cannot_deprecate_and_an_outsider_sees_nothing(world: Registry) -> None:
    plan = {"sunset": _day(LATER), "reason": "x"}
    with pytest.raises(Forbidden) as denied:
        world.deprecate(V2, plan, principal=CARL)
    assert "maintainer" in str(denied.value)
    refused = _events(world, "access.denied")[-1]
    assert (refused.actor, refused.payload["action"]) == ("carl", "version.deprecate")
    with pytest.raises(NotFound):  # rita reads nothing of fraud: answered as missing
        world.deprecate(V2, plan, principal=RITA)
    with pytest.raises(NotFound):
        world.deprecation(V1, principal=RITA)
    with pytest.raises(Forbidden):
        world.withdraw_deprecation(V1, principal=CARL)
    assert world.deprecation_notice(V2) is None


@pytest.mark.parametrize(("plan", "ref", "path", "error"), [
    ({"sunset": "2001-01-01", "reason": "x"}, V2, "/sunset", InvalidInput),
    ({"sunset": "next week", "reason": "x"}, V2, "/sunset", InvalidInput),
    ({"sunset": "2099-01-01T10:00:00", "reason": "x"}, V2, "/sunset", InvalidInput),
    ({"sunset": "2099-01-01", "reason": "  "}, V2, "/reason", InvalidInput),
    ({"sunset": "2099-01-01", "reason": "x", "extra": 1}, V2, "/extra", InvalidInput),
    ({"sunset": "2099-01-01", "reason": "x", "replacement": "dataset:fraud/tx@1"}, V2,
     "/replacement", InvalidInput),
    ({"sunset": "2099-01-01", "reason": "x", "replacement": "model_version:fraud/churn@99"},
     V2, "/replacement", NotFound),
    ({"sunset": "2099-01-01", "reason": "x", "replacement": V2}, V2, "/replacement",
     InvalidInput),
    ({"sunset": "2099-01-01", "reason": "x", "replacement": V1}, V2, "/replacement",
     InvalidInput),  # deprecated itself
    ({"sunset": "2099-01-01", "reason": "x"}, "dataset:fraud/tx@1", "/ref", InvalidInput),
    ({"sunset": "2099-01-01", "reason": "x"}, "model_version:fraud/churn@99", "/ref",
     NotFound),
])
def test_bad_input_names_the_field(world: Registry, plan: dict[str, Any], ref: str,
                                   path: str, error: type[ModelAtlasError]) -> None:
    with pytest.raises(error) as bad:
        world.deprecate(ref, plan, principal=ADA)
    assert [e.path for e in bad.value.errors][:1] == [path]
    assert world.deprecation_notice(V2) is None


def test_revise_then_withdraw_notifies_each_time(world: Registry) -> None:
    first = world.deprecate(V4, {"sunset": _day(LATER), "reason": "old"}, principal=ADA)
    revised = world.deprecate(V4, {"sunset": "2099-06-01T12:00:00+02:00", "reason": "older",
                                   "replacement": V2}, principal=ADA)
    assert revised.announced_at == first.announced_at
    assert parse_time(revised.changed_at) >= parse_time(first.changed_at)
    assert (revised.sunset, revised.reason, revised.replacement) == (
        "2099-06-01T10:00:00.000000Z", "older", V2)
    withdrawn = world.withdraw_deprecation(V4, principal=ADA)
    assert withdrawn.sunset == revised.sunset
    with pytest.raises(NotFound):
        world.deprecation(V4)
    with pytest.raises(NotFound):
        world.withdraw_deprecation(V4, principal=ADA)
    assert [e.payload["status"] for e in _about(_events(world, "version.deprecated"), V4)] \
        == ["announced", "revised"]
    assert [e.payload["status"] for e in _about(_events(world, "version.undeprecated"), V4)] \
        == ["withdrawn"]
    notices = _about(_events(world, "deprecation.notice"), V4)
    assert [(e.ref, e.payload["status"]) for e in notices] == [
        ("namespace:ops", "announced"), ("namespace:ops", "revised"),
        ("namespace:ops", "withdrawn")]
    assert "deployment:ops/legacy" not in {r.deployment for r in
                                           world.deprecated_deployments().items}
