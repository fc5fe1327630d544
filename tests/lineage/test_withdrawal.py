"""Withdrawing a dataset version: the version, everything built from it marked, events, one
transaction, idempotency; through the service, the SDK, a real HTTP server and the CLI.

The story is :mod:`lineage_world` (raw@1 <- clean@1 <- agg@1, two training runs, churn@1
and @2, an evaluation of @1, a deployment of @2) plus a model version trained on the
unrelated holdout@1.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from lineage_world import AGG, CHURN1, CHURN2, CLEAN, DEPLOY, EVAL, HOLDOUT, RAW, build, link

from cli_harness import Cli
from modelatlas.client import Client
from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import AssetCreate, AssetUpdate, Registry, VersionRegistration

OTHER = "model_version:ml/other@1"
MARKED = [CLEAN, AGG, CHURN1, CHURN2, EVAL, DEPLOY]  # nearest first, then oldest
AFFECTED = {"dataset": 1, "deployment": 1, "evaluation": 1, "feature": 1,
            "model_version": 2, "run": 2}


@pytest.fixture
def world(registry: Registry) -> Registry:
    """The story (tests/lineage/conftest.py builds it) and an unrelated version."""
    build(registry)
    registry.register_version("ml", "other", VersionRegistration(datasets=[HOLDOUT]))
    return registry


def marks_by_cause(registry: Registry) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for mark in registry.revalidation_marks(limit=500).items:
        found.setdefault(mark.cause, []).append(mark.ref)
    return found


def actions_since(registry: Registry, after: int) -> list[tuple[str, str]]:
    return [(e.action, e.ref) for e in registry.events(after=after, limit=500).items]


def test_withdraw_marks_what_was_built_from_the_version(world: Registry) -> None:
    before = world.get_asset(RAW)
    last = world.events(after=0, limit=500).items[-1].seq
    done = world.withdraw(RAW, reason="rows duplicated by a bad join", category="corrupt",
                          actor="alice")
    assert (done.ref, done.category, done.withdrawn_by) == (RAW, "corrupt", "alice")
    assert not done.already_withdrawn and done.depth == 10
    assert {c.kind: c.count for c in done.affected} == AFFECTED
    assert {c.kind: c.count for c in done.marked} == {
        "dataset": 1, "deployment": 1, "evaluation": 1, "feature": 1, "model_version": 2}
    assert [i.ref for i in done.items] == MARKED and done.next_cursor is None
    after = world.get_asset(RAW)
    assert (after.state, after.revision) == ("withdrawn", before.revision + 1)
    # the unrelated version, the holdout data and the runs are not marked
    assert marks_by_cause(world) == {RAW: MARKED}
    mark = world.revalidation_marks(CHURN2).items[0]
    assert mark.reason == f"{RAW} was withdrawn (corrupt): rows duplicated by a bad join"
    assert world.revalidation_marks(OTHER).items == []
    actions = actions_since(world, last)
    assert actions[:2] == [("asset.updated", RAW), ("dataset.withdrawn", RAW)]
    assert actions[2:] == [("revalidation.needed", ref) for ref in MARKED]
    event = world.history(RAW).items[-1]
    assert event.action == "dataset.withdrawn" and event.seq == done.event_seq
    assert event.payload["affected"] == AFFECTED
    assert event.payload["reason"] == "rows duplicated by a bad join"
    assert [a.ref for a in world.search("state:withdrawn").items] == [RAW]


def test_withdrawing_again_changes_nothing(world: Registry,
                                           event_count: Callable[[], int]) -> None:
    first = world.withdraw(RAW, reason="licence revoked", category="legal")
    events = event_count()
    again = world.withdraw(RAW, reason="a different reason", category="other")
    assert again.already_withdrawn
    assert again.model_copy(update={"already_withdrawn": False}) == first
    assert event_count() == events
    assert world.withdrawal(RAW) == first


def test_a_refused_withdrawal_writes_nothing(world: Registry,
                                            event_count: Callable[[], int]) -> None:
    events = event_count()
    with pytest.raises(InvalidInput) as not_data:
        world.withdraw(CHURN1, reason="wrong kind")
    assert [e.path for e in not_data.value.errors] == ["/ref"]
    assert "only a dataset version" in str(not_data.value)
    with pytest.raises(InvalidInput) as blank:
        world.withdraw(RAW, reason="   ")
    assert [e.path for e in blank.value.errors] == ["/reason"]
    with pytest.raises(InvalidInput) as bad:
        world.withdraw(RAW, reason="x", category="oops", depth=0)  # type: ignore[arg-type]
    assert sorted(e.path for e in bad.value.errors) == ["/category", "/depth"]
    with pytest.raises(NotFound):
        world.withdraw("dataset:ml/nope@1", reason="x")
    with pytest.raises(NotFound):
        world.withdrawal(RAW)  # never withdrawn
    assert event_count() == events
    assert world.get_asset(RAW).state == "active" and marks_by_cause(world) == {}


def test_only_withdraw_enters_or_leaves_the_state(world: Registry) -> None:
    raw = world.get_asset(RAW)
    with pytest.raises(InvalidInput) as patched:
        world.update_asset(RAW, AssetUpdate(state="withdrawn"), expected_revision=raw.revision)
    assert [e.path for e in patched.value.errors] == ["/state"]
    with pytest.raises(InvalidInput):
        world.create_asset(AssetCreate(ref="dataset:ml/fresh@1", state="withdrawn"))
    world.withdraw(RAW, reason="corrupt", category="corrupt")
    raw = world.get_asset(RAW)
    with pytest.raises(InvalidInput):
        world.update_asset(RAW, AssetUpdate(state="active"), expected_revision=raw.revision)
    described = world.update_asset(RAW, AssetUpdate(description="see the incident"),
                                   expected_revision=raw.revision)
    assert described.state == "withdrawn"


def test_registering_on_withdrawn_data_needs_consent(world: Registry) -> None:
    world.withdraw(CLEAN, reason="PII found", category="legal")
    with pytest.raises(InvalidInput) as refused:
        world.register_version("ml", "retry", VersionRegistration(datasets=[HOLDOUT, CLEAN]))
    assert [e.path for e in refused.value.errors] == ["/datasets/1"]
    with pytest.raises(NotFound):
        world.get_asset("model:ml/retry")  # the refusal rolled the registration back
    kept = world.register_version("ml", "retry", VersionRegistration(
        datasets=[CLEAN], allow_withdrawn=True))
    assert kept.model_version.ref == "model_version:ml/retry@1"


def test_evidence_from_withdrawn_data_clears_no_mark(world: Registry) -> None:
    world.withdraw(RAW, reason="corrupt", category="corrupt")
    world.create_asset(AssetCreate(ref="evaluation:ml/recheck", metadata={"passed": True}))
    link(world, "evaluation:ml/recheck", "evaluated", CHURN2)
    link(world, "evaluation:ml/recheck", "evaluated_on", RAW)
    assert [m.cause for m in world.revalidation_marks(CHURN2).items] == [RAW]


def test_marked_assets_page_nearest_first(world: Registry) -> None:
    world.withdraw(RAW, reason="corrupt", category="corrupt", depth=2)
    first = world.withdrawal(RAW, limit=1)
    assert [i.ref for i in first.items] == [CLEAN] and first.next_cursor
    rest = world.withdrawal(RAW, cursor=first.next_cursor, limit=10)
    # depth 2: clean@1 (1 hop) and agg@1 (2 hops); the runs are counted, not marked
    assert [i.ref for i in rest.items] == [AGG] and rest.next_cursor is None
    assert {c.kind: c.count for c in first.affected} == {"dataset": 1, "feature": 1, "run": 2}


def test_sdk_withdraws_over_http_and_in_process(world: Registry, client: Client) -> None:
    done = client.lineage.withdraw(RAW, reason="licence revoked", category="legal")
    assert [i.ref for i in done.items] == MARKED and done.withdrawn_by == "tester"
    assert client.lineage.withdrawal(RAW) == done
    with pytest.raises(InvalidInput) as refused:
        client.lineage.withdraw(EVAL, reason="x")
    assert refused.value.errors[0].path in ("/ref", "path/ref")


def test_http_withdraw_answers_json_and_problems(world: Registry, base_url: str) -> None:
    api = f"{base_url}/api/v1"
    response = httpx.post(f"{api}/datasets/{RAW}/withdraw",
                          json={"reason": "bad labels", "category": "corrupt"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ref"] == RAW and body["category"] == "corrupt"
    assert [i["ref"] for i in body["items"]] == MARKED
    again = httpx.post(f"{api}/datasets/{RAW}/withdraw", json={"reason": "again"})
    assert again.status_code == 200 and again.json()["already_withdrawn"] is True
    listed = httpx.get(f"{api}/datasets/{RAW}/withdrawal", params={"limit": 2})
    assert [i["ref"] for i in listed.json()["items"]] == MARKED[:2]
    wrong = httpx.post(f"{api}/datasets/{CHURN1}/withdraw", json={"reason": "x"})
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert [e["path"] for e in wrong.json()["errors"]] == ["path/ref"]
    unknown = httpx.post(f"{api}/datasets/{RAW}/withdraw", json={"reason": "x", "why": 1})
    assert unknown.status_code == 422
    revalidation = httpx.get(f"{api}/deps/revalidation", params={"ref": DEPLOY})
    assert [m["cause"] for m in revalidation.json()["items"]] == [RAW]


def test_cli_withdraw_and_list(lineage: Cli) -> None:
    out = lineage("withdraw", RAW, "--reason", "licence revoked", "--category", "legal").stdout
    assert f"{RAW} is withdrawn (legal" in out and "6 assets marked" in out
    assert DEPLOY in out and "run:ml/train-1" not in out
    again = json.loads(lineage("withdraw", RAW, "--reason", "again", "--json").stdout)
    assert again["already_withdrawn"] is True and again["reason"] == "licence revoked"
    listed = lineage("withdrawal", RAW, "--limit", "1").stdout
    assert CLEAN in listed and "--cursor" in listed
    refused = lineage("withdraw", CHURN1, "--reason", "x", code=1)
    assert "only a dataset version" in refused.stderr
