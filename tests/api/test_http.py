"""The HTTP contract beyond errors: headers, idempotency, paging, routing, OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from routes import walk_routes

V1 = "/api/v1"
DATASET = "dataset:fin/tx@1"


def test_create_answers_201_with_location_and_etag(http: httpx.Client) -> None:
    response = http.post(f"{V1}/assets", json={"ref": DATASET, "metadata": {"row_count": 3}})
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{V1}/assets/{DATASET}"
    got = http.get(response.headers["location"])
    assert got.status_code == 200
    assert got.json()["metadata"]["row_count"] == 3
    assert got.headers["etag"] == '"1"'


def test_if_match_guards_updates_and_success_bumps_the_etag(http: httpx.Client) -> None:
    http.post(f"{V1}/assets", json={"ref": DATASET})
    url = f"{V1}/assets/{DATASET}"
    etag = http.get(url).headers["etag"]
    assert http.patch(url, json={"description": "a"}).status_code == 428
    first = http.patch(url, json={"description": "a"}, headers={"if-match": etag})
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"' != etag
    assert first.json()["revision"] == 2 and first.json()["description"] == "a"
    # A writer still holding the old ETag loses instead of overwriting silently.
    stale = http.patch(url, json={"description": "b"}, headers={"if-match": etag})
    assert stale.status_code == 412
    assert http.get(url).json()["description"] == "a"
    assert http.patch(url, json={"description": "b"}, headers={"if-match": "*"}).status_code == 428


def test_idempotency_key_returns_the_first_result_and_writes_once(
    http: httpx.Client, event_count: Callable[[], int]
) -> None:
    headers = {"idempotency-key": "job-42"}
    body = {"datasets": [{"ref": DATASET, "metadata": {"row_count": 1}}]}
    first = http.post(f"{V1}/models/fraud/churn/versions", json=body, headers=headers)
    assert first.status_code == 201
    written = event_count()
    again = http.post(f"{V1}/models/fraud/churn/versions", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert event_count() == written
    versions = http.get(f"{V1}/models/fraud/churn/versions").json()["items"]
    assert [v["version"] for v in versions] == ["1"]
    other = http.post(f"{V1}/models/fraud/churn/versions", json={}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    assert event_count() == written


def test_lists_page_with_cursors_and_cap_the_limit(http: httpx.Client, app: FastAPI) -> None:
    refs = [f"dataset:fin/d{i:02d}@1" for i in range(7)]
    for ref in refs:
        assert http.post(f"{V1}/assets", json={"ref": ref, "tags": ["pii"]}).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "tag": "pii"}
        if cursor:
            params["cursor"] = cursor
        page = http.get(f"{V1}/assets", params=params).json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 3
        seen += [a["ref"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == refs
    app.state.settings = app.state.settings.model_copy(update={"page_limit_max": 2})
    capped = http.get(f"{V1}/assets", params={"limit": 500}).json()
    assert len(capped["items"]) == 2 and capped["next_cursor"]


def test_history_and_relations_routes_do_not_swallow_asset_names(http: httpx.Client) -> None:
    """``{ref}/history`` must not match an asset that is itself named ``history``."""
    for ref in ("model:fin/history", "model:fin/relations"):
        assert http.post(f"{V1}/assets", json={"ref": ref}).status_code == 201
        assert http.get(f"{V1}/assets/{ref}").json()["ref"] == ref
        events = http.get(f"{V1}/assets/{ref}/history").json()["items"]
        assert [e["action"] for e in events] == ["asset.created"]
        assert http.get(f"{V1}/assets/{ref}/relations").json() == {
            "items": [], "next_cursor": None,
        }


def test_relations_add_list_remove_and_event_feed(http: httpx.Client) -> None:
    for ref in (DATASET, "dataset:fin/raw@1"):
        http.post(f"{V1}/assets", json={"ref": ref})
    edge = {"source": DATASET, "relation": "derived_from", "target": "dataset:fin/raw@1"}
    added = http.post(f"{V1}/relations", json=edge)
    assert added.status_code == 201 and added.json()["relation"] == "derived_from"
    outgoing = http.get(f"{V1}/assets/{DATASET}/relations", params={"direction": "out"})
    assert [r["target"] for r in outgoing.json()["items"]] == ["dataset:fin/raw@1"]
    incoming = http.get(f"{V1}/assets/{DATASET}/relations", params={"direction": "in"})
    assert incoming.json()["items"] == []
    removed = http.delete(f"{V1}/relations", params=edge)
    assert removed.status_code == 204 and removed.content == b""
    assert http.delete(f"{V1}/relations", params=edge).status_code == 404
    feed = http.get(f"{V1}/events", params={"after": 0}).json()["items"]
    assert [e["action"] for e in feed] == [
        "asset.created", "asset.created", "relation.added", "relation.removed",
    ]
    later = http.get(f"{V1}/events", params={"after": feed[1]["seq"]}).json()["items"]
    assert [e["seq"] for e in later] == [e["seq"] for e in feed[2:]]


def test_unicode_names_round_trip_through_the_path(http: httpx.Client) -> None:
    ref = "dataset:fin/caf\u00e9-\u6570\u636e@1"
    created = http.post(f"{V1}/assets", json={"ref": ref})
    assert created.status_code == 201
    assert http.get(created.headers["location"]).json()["ref"] == ref
    # The decomposed spelling is the same name.
    assert http.get(f"{V1}/assets/dataset:fin/cafe\u0301-\u6570\u636e@1").status_code == 200


def test_health_and_readiness(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}


def test_the_root_is_the_web_ui_and_it_links_the_interactive_api(http: httpx.Client) -> None:
    answer = http.get("/")
    assert answer.status_code == 200 and 'href="/docs"' in answer.text
    assert "swagger" in http.get("/docs").text.lower()


def _routed(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app's router serves under /api/v1, read from the router
    itself (``{ref:ref}`` written as OpenAPI writes it: ``{ref}``)."""
    return {(method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path))
            for method, path in walk_routes(app.routes) if path.startswith(V1)}


def test_openapi_lists_every_route_with_its_schemas(http: httpx.Client, app: FastAPI) -> None:
    document = http.get("/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith(V1)
    }
    assert served == _routed(app)
    assert len(served) > 80  # the router was walked, not an empty app
    create = document["paths"][f"{V1}/assets"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["$ref"].endswith("/AssetCreate")
    assert "application/problem+json" in create["responses"]["4XX"]["content"]
    assert "422" not in create["responses"]  # FastAPI's default error shape is not ours
    assert {"Asset", "AssetUpdate", "VersionRegistration", "Problem"} <= set(
        document["components"]["schemas"]
    )
