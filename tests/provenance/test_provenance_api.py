"""The provenance routes over a real server, and the SDK over HTTP and in-process: the
same answers, the content types, and problem documents for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from provenance_world import build_small_registry, register

from modelatlas.client import Client
from modelatlas.errors import InvalidInput, NotFound
from modelatlas.lineage.prov import asset_refs, read_prov
from modelatlas.registry import Registry


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + "/api/v1", timeout=30) as made:
        yield made


def test_routes_answer_with_their_content_types(registry: Registry, http: httpx.Client) -> None:
    refs = build_small_registry(registry)
    version = refs["fraud1"]

    turtle = http.get(f"/prov/{version}", params={"format": "turtle", "depth": 2})
    assert turtle.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert version in asset_refs(read_prov(turtle.text, "turtle"))
    as_json = http.get(f"/prov/{version}", params={"direction": "upstream"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert "run:fraud/churn-v1" in asset_refs(read_prov(as_json.text, "json"))

    report = http.get(f"/provenance/{version}").json()
    assert report["complete"] is True and report["validated"] is True
    assert report["runs"][0]["ref"] == "run:fraud/churn-v1"
    metrics = http.get("/metrics/provenance", params={"namespace": "fraud"}).json()
    assert metrics["total"]["model_versions"] == 4
    assert metrics["total"]["lineage_completeness"] == 0.5


def test_bad_input_is_a_problem_document(registry: Registry, http: httpx.Client) -> None:
    version = register(registry, "fraud", "churn")
    bad_format = http.get(f"/prov/{version}", params={"format": "xml"})
    assert bad_format.status_code == 422
    assert bad_format.headers["content-type"].startswith("application/problem+json")
    assert bad_format.json()["errors"][0]["path"] == "query/format"
    bad_direction = http.get(f"/prov/{version}", params={"direction": "sideways"})
    assert bad_direction.status_code == 422
    assert bad_direction.json()["errors"][0]["path"] == "query/direction"
    assert http.get("/provenance/model_version:fraud/churn@9").status_code == 404
    not_a_version = http.get("/provenance/dataset:fraud/transactions@1")
    assert not_a_version.status_code == 422
    assert http.get("/metrics/provenance", params={"namespace": "Bad Team"}).status_code == 422


def test_sdk_same_answers_either_way(registry: Registry, client: Client) -> None:
    refs = build_small_registry(registry)
    report = client.provenance.report(refs["fraud3"])
    assert not report.complete
    assert {m.step for m in report.missing if m.area == "lineage"} == {"run.seeds"}
    assert report == registry.provenance_report(refs["fraud3"])
    assert client.provenance.metrics() == registry.provenance_metrics()
    assert client.provenance.metrics("risk").total.model_versions == 2
    for fmt in ("json", "turtle"):
        text = client.provenance.export(refs["risk1"], format=fmt, depth=2)
        assert read_prov(text, fmt) == read_prov(  # type: ignore[arg-type]
            registry.export_prov(refs["risk1"], {"depth": 2, "direction": "both"}, fmt), fmt)
    with pytest.raises(InvalidInput):
        client.provenance.export(refs["risk1"], format="xml")
    with pytest.raises(InvalidInput):
        client.provenance.export(refs["risk1"], direction="sideways")
    with pytest.raises(NotFound):
        client.provenance.report("model_version:nobody/nothing@1")
