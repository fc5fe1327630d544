"""``POST /deps/impact`` and ``GET /deps/revalidation`` over a real server, both backends:
the happy paths and bad input as problem documents naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from deps_impact_world import FEATURE, SCHEMA, SERVING, build

from modelatlas.registry import AssetUpdate, Registry

V1 = "/api/v1"


@pytest.fixture
def world(registry: Registry) -> Registry:
    """The impact story in this test's own registry, which the server or CLI here opens
    too (so not the copy tests/deps/conftest.py gives)."""
    build(registry)
    return registry


@pytest.fixture
def http(world: Registry, base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def test_package_impact_over_http(http: httpx.Client) -> None:
    answer = http.post(f"{V1}/deps/impact",
                       json={"environment": SERVING, "package": "numpy", "to": "2.1.0"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["summary"] == f"numpy 1.26.4 -> 2.1.0 in {SERVING}"
    assert [(v["ref"], v["reasons"]) for v in body["model_versions"]] == [
        ("model_version:fraud/churn@1",
         ["numpy 2.1.0 does not satisfy <2 (fraud/churn@1, requirements.txt:3)"])]
    assert [d["ref"] for d in body["deployments"]] == ["deployment:fraud/churn-api"]


def test_proposed_schema_over_http(http: httpx.Client) -> None:
    fields = [{"name": "id", "type": "long", "nullable": False}]
    answer = http.post(f"{V1}/deps/impact",
                       json={"schema": SCHEMA, "fields": fields, "mode": "FULL"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["compatible"] is False and body["mode"] == "FULL"
    assert "model_version:fraud/risk@1" in {v["ref"] for v in body["model_versions"]}


def test_revalidation_marks_over_http(http: httpx.Client, registry: Registry) -> None:
    assert http.get(f"{V1}/deps/revalidation").json() == {"items": [], "next_cursor": None}
    registry.update_asset(SERVING, AssetUpdate(metadata={"packages": ["numpy==2.1.0"]}),
                          expected_revision=1)
    page = http.get(f"{V1}/deps/revalidation", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    one = http.get(f"{V1}/deps/revalidation",
                   params={"ref": "model_version:fraud/churn@1"}).json()["items"]
    assert [(m["ref"], m["cause"]) for m in one] == [("model_version:fraud/churn@1", SERVING)]
    assert one[0]["reason"].startswith(
        f"{SERVING} changed: numpy 1.26.4 -> 2.1.0, pandas 2.2.2 -> (removed); "
        "numpy 2.1.0 does not satisfy <2")


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"asset": f"{FEATURE}@9"}, 404, "/asset"),
        ({"environment": "environment:platform/gone", "package": "numpy", "to": "2"}, 404,
         "/environment"),
        ({"environment": SERVING, "package": "numpy"}, 422, "/to"),
        ({"environment": SERVING, "package": "numpy", "to": "2", "scope": "galaxy"}, 422,
         "/scope"),
        ({"schema": SCHEMA, "fields": [{"type": "long"}]}, 422, "/fields/0/name"),
        ({"asset": f"{FEATURE}@2", "colour": "red"}, 422, "/colour"),
        ({"asset": f"{FEATURE}@2", "depth": 99}, 422, "/depth"),
    ],
)
def test_bad_changes_are_problems_naming_the_field(
    http: httpx.Client, body: dict[str, object], status: int, path: str
) -> None:
    answer = http.post(f"{V1}/deps/impact", json=body)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert path in [e["path"] for e in answer.json()["errors"]]


def test_marks_of_an_unknown_asset_are_404_naming_the_query(http: httpx.Client) -> None:
    answer = http.get(f"{V1}/deps/revalidation", params={"ref": "model_version:fraud/no@1"})
    assert answer.status_code == 404
    bad = http.get(f"{V1}/deps/revalidation", params={"cursor": "???"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "query/cursor"
