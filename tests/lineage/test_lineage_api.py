"""Lineage over the REST API (a real server) and the SDK (over HTTP and in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lineage_world import AGG, CHURN1, CHURN2, CLEAN, DEPLOY, EVAL, RAW, TRAIN2, build

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.errors import InvalidInput, NotFound, UnknownRelation
from modelatlas.registry import Registry
from worlds import Worlds


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def story_url(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[str]:
    """A server over one lineage story per backend for the module's read-only HTTP tests."""
    with world_cache.shared(request.param, build) as registry, \
            running_server(create_app(registry.settings, registry)) as url:
        yield url


def test_sdk_graph_paths_and_blast_radius(world: Registry, client: Client) -> None:
    graph = client.lineage.graph(RAW, depth=10, relations=["derived_from"])
    assert [(n.ref, n.depth) for n in graph.nodes] == [(RAW, 0), (CLEAN, 1), (AGG, 2)]
    assert graph == world.lineage(RAW, {"depth": 10, "relations": ["derived_from"]})
    kinds = client.lineage.graph(RAW, depth=10, kinds=["deployment"], direction="downstream")
    assert [n.ref for n in kinds.nodes] == [RAW, DEPLOY]
    up = client.lineage.graph(CHURN2, direction="upstream", depth=1, as_of=world.now())
    assert {n.ref for n in up.nodes} >= {CHURN2, TRAIN2, CHURN1}
    paths = client.lineage.paths(RAW, DEPLOY, depth=4)
    assert [p.refs for p in paths.paths] == [[RAW, CLEAN, TRAIN2, CHURN2, DEPLOY]]
    first = client.lineage.blast_radius(CLEAN, limit=3)
    rest = client.lineage.blast_radius(CLEAN, limit=3, cursor=first.next_cursor)
    assert [n.ref for n in first.items + rest.items] == [CHURN1, CHURN2, EVAL, DEPLOY]


def test_sdk_pages_direct_neighbours(world: Registry, client: Client) -> None:
    first = client.lineage.neighbours(CLEAN, limit=2)
    assert first == world.lineage_neighbours(CLEAN, limit=2)
    rest = client.lineage.neighbours(CLEAN, limit=2, cursor=first.next_cursor)
    assert rest.next_cursor is None
    whole = world.lineage_neighbours(CLEAN, limit=10)
    assert [n.ref for n in first.items + rest.items] == [n.ref for n in whole.items]
    runs = client.lineage.neighbours(CLEAN, kind="run")
    assert {n.kind for n in runs.items} == {"run"} and runs.kind == "run"
    up = client.lineage.neighbours(CLEAN, direction="upstream")
    assert [n.ref for n in up.items] == [RAW] and up.edges[0].relation == "derived_from"
    with pytest.raises(InvalidInput) as side:
        client.lineage.neighbours(CLEAN, direction="sideways")
    assert side.value.errors[0].path.endswith("direction")


def test_sdk_errors_are_the_registry_errors(world: Registry, client: Client) -> None:
    with pytest.raises(UnknownRelation) as raised:
        client.lineage.graph(RAW, relations=["used", "fed"])
    assert raised.value.errors[0].path.startswith("/relation")
    with pytest.raises(InvalidInput) as bad_depth:
        client.lineage.graph(RAW, depth=0)
    assert [e.path for e in bad_depth.value.errors] == ["/depth"]
    with pytest.raises(NotFound):
        client.lineage.graph("dataset:ml/nope@1")
    with pytest.raises(InvalidInput):
        client.lineage.paths(RAW, DEPLOY, depth=50)
    with pytest.raises(InvalidInput):
        client.lineage.blast_radius(CLEAN, cursor="###")


def get(base_url: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{base_url}/api/v1{path}", params=params)


def test_http_lineage_answers_json(story_url: str) -> None:
    base_url = story_url
    response = get(base_url, f"/lineage/{RAW}", depth=10, relation="derived_from,used")
    assert response.status_code == 200
    body = response.json()
    assert body["root"] == RAW and body["query"]["relations"] == ["derived_from", "used"]
    assert {n["ref"] for n in body["nodes"]} == {RAW, CLEAN, AGG, "run:ml/train-1", TRAIN2}
    repeated = get(base_url, f"/lineage/{RAW}", depth=10,
                   relation=["derived_from", "used"])
    assert repeated.json() == body
    blast = get(base_url, f"/blast-radius/{CLEAN}").json()
    assert set(blast) >= {"root", "totals", "items", "next_cursor"}
    assert get(base_url, "/lineage-paths", source=RAW, target=DEPLOY, depth=4).json()[
        "paths"][0]["refs"][-1] == DEPLOY


@pytest.mark.parametrize(("path", "params", "status", "where"), [
    (f"/lineage/{RAW}", {"relation": "used,fed"}, 422, "query/relation"),
    (f"/lineage/{RAW}", {"kind": "widget"}, 422, "query/kind"),
    (f"/lineage/{RAW}", {"depth": 0}, 422, "query/depth"),
    (f"/lineage/{RAW}", {"depth": "deep"}, 422, "query/depth"),
    (f"/lineage/{RAW}", {"direction": "sideways"}, 422, "query/direction"),
    (f"/lineage/{RAW}", {"as_of": "not a time"}, 422, "query/as_of"),
    (f"/lineage/{RAW}", {"limit": 10_001}, 422, "query/limit"),
    ("/lineage/dataset:ml/nope@1", {}, 404, "path/ref"),
    ("/lineage/not a ref", {}, 422, "path/ref"),
    ("/lineage-paths", {"source": RAW}, 422, "query/target"),
    ("/lineage-paths", {"source": RAW, "target": DEPLOY, "limit": 0}, 422, "query/limit"),
    ("/lineage-paths", {"source": RAW, "target": "deployment:ml/x"}, 404, "query/target"),
    (f"/blast-radius/{CLEAN}", {"cursor": "###"}, 422, "query/cursor"),
    (f"/blast-radius/{CLEAN}", {"depth": 21}, 422, "query/depth"),
])
def test_http_bad_input_is_a_problem_document(
    story_url: str, path: str, params: dict[str, Any], status: int, where: str
) -> None:
    response = get(story_url, path, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert where in [e["path"] for e in problem["errors"]], problem
