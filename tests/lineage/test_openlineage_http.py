"""``POST /api/v1/lineage`` over a real server, sent as the OpenLineage HTTP transports send
events (one JSON event per POST, optionally gzip), batches, errors; and the SDK's
``client.lineage.ingest`` on both transports."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelatlas.client import Client
from modelatlas.client._local import _LocalTransport
from modelatlas.config import Settings
from modelatlas.lineage.openlineage import OpenLineageInvalid, run_ref
from modelatlas.registry import Registry

EVENTS = Path(__file__).parent / "openlineage_events"
# what openlineage-python's HttpTransport sends (transport/http.py _prepare_request)
HEADERS = {"Content-Type": "application/json", "User-Agent": "openlineage-python/1.12.0"}


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def test_a_single_event_as_the_python_transport_posts_it(
    http: httpx.Client, registry: Registry
) -> None:
    body = json.dumps(event("airflow_dag_start"))
    response = http.post("/api/v1/lineage", content=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["events"] == 1
    run = registry.get_asset(run_ref("airflow-prod", "0190b3c8-4a11-7b2c-8d3e-1a2b3c4d5e6f"))
    assert run.metadata["status"] == "running"


def test_a_gzip_event_as_the_transports_send_it_with_compression(
    http: httpx.Client, registry: Registry
) -> None:
    body = gzip.compress(json.dumps(event("spark_complete")).encode(), compresslevel=3)
    response = http.post("/api/v1/lineage", content=body, headers={
        **HEADERS, "Content-Type": "application/json; charset=UTF-8",
        "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert len(response.json()["created"]) == 10


@pytest.mark.parametrize("path", ["/api/v1/lineage", "/api/v1/lineage/batch"])
def test_a_batch_is_one_request_and_redelivery_changes_nothing(
    http: httpx.Client, path: str
) -> None:
    batch = [event("airflow_dag_start"), event("spark_complete"), event("dbt_dataset_event")]
    first = http.post(path, json=batch)
    assert first.status_code == 200, first.text
    assert first.json()["events"] == 3
    again = http.post(path, json=batch).json()
    assert (again["created"], again["updated"], again["relations"]) == ([], [], 0)


def test_an_invalid_event_is_a_422_naming_the_json_path(
    http: httpx.Client, registry: Registry
) -> None:
    bad = event("spark_complete")
    bad["inputs"][0]["facets"]["schema"]["fields"][0]["type"] = 5
    response = http.post("/api/v1/lineage/batch", json=[event("airflow_dag_start"), bad])
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "openlineage_invalid"
    assert [e["path"] for e in problem["errors"]] == ["/1/inputs/0/facets/schema/fields/0/type"]
    assert registry.list_assets(kind="run").items == []  # all or nothing


@pytest.mark.parametrize(("body", "headers", "status", "path"), [
    (b"not json", {}, 400, ""),
    (b"", {}, 400, ""),
    (b"{}", {"Content-Type": "text/plain"}, 400, "header/content-type"),
    (b"\x1f\x8b broken", {"Content-Encoding": "gzip"}, 400, "header/content-encoding"),
    (b"{}", {"Content-Encoding": "br"}, 400, "header/content-encoding"),
    (b"[1]", {}, 422, "/0"),
    (b'{"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json"}', {}, 422, ""),
])
def test_bad_requests_are_4xx_problems(
    http: httpx.Client, body: bytes, headers: dict[str, str], status: int, path: str
) -> None:
    response = http.post("/api/v1/lineage", content=body,
                         headers={"Content-Type": "application/json", **headers})
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert path in [e["path"] for e in errors]


def test_a_gzip_bomb_is_refused_before_it_is_inflated(
    http: httpx.Client, settings: Settings
) -> None:
    body = gzip.compress(b"[" + b" " * (settings.max_body_bytes + 10) + b"]")
    assert len(body) < settings.max_body_bytes
    response = http.post("/api/v1/lineage", content=body,
                         headers={**HEADERS, "Content-Encoding": "gzip"})
    assert response.status_code == 413


def test_the_openapi_document_lists_the_routes(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/lineage"]
    assert "post" in paths["/api/v1/lineage/batch"]


@pytest.fixture(params=["http", "local"])
def client(request: pytest.FixtureRequest, registry: Registry) -> Iterator[Client]:
    if request.param == "http":
        url = request.getfixturevalue("base_url")
        with Client(url) as remote:
            yield remote
        return
    local = Client.__new__(Client)
    local._init(_LocalTransport(registry, "tester"))
    yield local


def test_sdk_ingest_on_both_transports(client: Client, registry: Registry) -> None:
    one = client.lineage.ingest(event("airflow_dag_start"))
    assert one.events == 1
    batch = client.lineage.ingest([event("spark_complete"), event("dbt_dataset_event")])
    assert batch.events == 2 and batch.relations > 0
    bad = event("spark_complete")
    bad["run"]["runId"] = "x"
    with pytest.raises(OpenLineageInvalid) as exc:
        client.lineage.ingest([bad])
    assert [e.path for e in exc.value.errors] == ["/0/run/runId"]
