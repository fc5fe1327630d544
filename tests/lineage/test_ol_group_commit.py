"""Group commit of single OpenLineage events (registry/_group_commit.py), on both backends:
concurrent requests share one transaction and commit, write what serial requests write,
and a failing request is rolled back alone with its own error."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelatlas.config import Settings
from modelatlas.errors import MetadataInvalid, NotFound
from modelatlas.lineage.openlineage import job_ref, run_ref
from modelatlas.registry import OpenLineageIngest, Registry
from modelatlas.registry._group_commit import GroupCommit
from modelatlas.registry._openlineage import _plan, _Stale, _work
from modelatlas.registry._tx import WriteTx

CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.12.0/client/python"


def run_event(namespace: str, index: int) -> dict[str, Any]:
    """A START event of its own job, run and datasets: no two share an asset."""
    def dataset(side: str) -> dict[str, Any]:
        return {"namespace": f"s3://{namespace}", "name": f"/{side}/{index}"}

    return {
        "eventType": "START", "eventTime": f"2024-05-01T10:{index:02d}:00Z",
        "run": {"runId": str(uuid.UUID(int=index + 1, version=4))},
        "job": {"namespace": namespace, "name": f"job_{index}"},
        "inputs": [dataset("in")], "outputs": [dataset("out")],
        "producer": PRODUCER, "schemaURL": CORE,
    }


def logged(registry: Registry) -> list[tuple[str, str, str]]:
    """The event log as (action, ref, payload), sorted: order differs between groupings."""
    items = registry.events(limit=500).items
    return sorted((e.action, e.ref, json.dumps(e.payload, sort_keys=True)) for e in items)


Work = Callable[[WriteTx], OpenLineageIngest]


def in_one_group(group: GroupCommit[OpenLineageIngest], works: list[Work],
                 actors: list[str | None] | None = None) -> list[Any]:
    """Submit ``works`` concurrently such that all are preparing before any is queued, so
    the leader (which waits while requests prepare) takes them as one group. Returns each
    one's result or error."""
    barrier = threading.Barrier(len(works))
    group.max_wait = 30.0

    def call(work: Work, actor: str | None) -> Any:
        def prepare() -> Work:
            barrier.wait()
            return work
        try:
            return group.submit(prepare, actor)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(works)) as pool:
        return list(pool.map(call, works, actors or [None] * len(works)))


def test_concurrent_single_events_write_what_serial_ones_write(
    registry: Registry, tmp_path: Path
) -> None:
    events = [run_event(f"team-{i % 4}", i) for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda e: registry.ingest_openlineage(e, grouped=True), events))
    serial = Registry.open(Settings(home=tmp_path / "serial", actor="tester",
                                    database_url=f"sqlite:///{tmp_path / 'serial.db'}"))
    try:
        expected = [serial.ingest_openlineage(e) for e in events]
        assert [r.model_dump() for r in results] == [r.model_dump() for r in expected]
        assert logged(registry) == logged(serial)
    finally:
        serial.close()
    assert 1 <= registry._openlineage_group().groups <= len(events)
    registry.audit_verify()  # the Merkle tree covers exactly the grouped events


def test_one_group_commits_once_and_a_failing_request_rolls_back_alone(
    registry: Registry,
) -> None:
    # a custom-field rule the mapping's job asset breaks: the error comes from inside the
    # group's transaction (the request's work), not from validation before it
    registry.set_namespace_schema("strict", "code", {"type": "object", "required": ["team"]})
    group = registry._openlineage_group()
    before = group.groups
    events = [run_event("team-a", 1), run_event("strict", 2), run_event("team-b", 3),
              run_event("team-a", 4)]
    results = in_one_group(group, [_work(_plan(e)) for e in events])
    assert group.groups == before + 1  # one transaction, one commit for the four
    failed = results[1]
    assert isinstance(failed, MetadataInvalid)
    assert failed.errors[0].path.startswith("/custom")
    for result in (results[0], results[2], results[3]):
        assert isinstance(result, OpenLineageIngest)
        assert result.events == 1 and len(result.created) == 4
    with pytest.raises(NotFound):
        registry.get_asset(job_ref("strict", "job_2"))
    refs = {e.ref for e in registry.events(limit=500).items}
    assert not any(":strict/" in ref for ref in refs)  # its events went with its writes
    assert str(run_ref("team-b", str(uuid.UUID(int=4, version=4)))) in refs
    registry.audit_verify()


def test_a_conflict_runs_the_whole_group_again(registry: Registry) -> None:
    """A ``retry_on`` error (another process wrote the same rows) takes every request of
    the group back, events included, and runs them again."""
    group = GroupCommit[OpenLineageIngest](registry._write, retry_on=(_Stale,))
    attempts: list[int] = []
    plans = [_plan(run_event("team-c", i)) for i in (5, 6)]

    def flaky(tx: WriteTx) -> OpenLineageIngest:
        attempts.append(len(attempts))
        result = _work(plans[1])(tx)
        if len(attempts) == 1:
            raise _Stale("as if another process had just written it")
        return result

    results = in_one_group(group, [_work(plans[0]), flaky])
    assert all(isinstance(r, OpenLineageIngest) for r in results), results
    assert len(attempts) == 2 and group.groups == 1
    created = [e.ref for e in registry.events(limit=500).items if e.action == "asset.created"]
    assert len(created) == len(set(created)) == 8  # once each: the first try left nothing
    registry.audit_verify()


def test_requests_of_different_actors_commit_apart_with_their_actor(
    registry: Registry,
) -> None:
    group = registry._openlineage_group()
    before = group.groups
    actors: list[str | None] = ["alice", "bob", "alice"]
    events = [run_event(f"team-{a}", i) for i, a in enumerate(actors)]
    results = in_one_group(group, [_work(_plan(e)) for e in events], actors)
    assert all(isinstance(r, OpenLineageIngest) for r in results), results
    assert group.groups == before + 2  # one transaction per actor
    by_ref = {e.ref: e.actor for e in registry.events(limit=500).items}
    for (actor, event) in zip(actors, events, strict=True):
        assert by_ref[str(job_ref(event["job"]["namespace"], event["job"]["name"]))] == actor


def test_concurrent_posts_each_get_their_own_answer(
    base_url: str, registry: Registry
) -> None:
    registry.set_namespace_schema("strict", "code", {"type": "object", "required": ["team"]})
    events = [run_event("team-h", i) for i in range(7)] + [run_event("strict", 9)]

    def post(event: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            return http.post("/api/v1/lineage", content=json.dumps(event),
                             headers={"Content-Type": "application/json"})

    with ThreadPoolExecutor(len(events)) as pool:
        responses = list(pool.map(post, events))
    for response in responses[:-1]:
        assert response.status_code == 200, response.text
        assert response.json()["events"] == 1
    bad = responses[-1]
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["path"].startswith("/custom")
    assert registry.get_asset(job_ref("team-h", "job_6")).custom["openlineage"]["name"] == (
        "job_6")
