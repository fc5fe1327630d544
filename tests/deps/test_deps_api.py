"""The /deps routes over a real HTTP server, and the SDK's client.deps on both transports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelatlas.client import Client, environment_from_freeze
from modelatlas.errors import InvalidInput

V1 = "/api/v1"
CHURN = "model_version:fraud/churn@1"
ENV = "environment:platform/serving-py311"


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + V1, timeout=30) as client:
        yield client


def _register(http: httpx.Client, requirements: dict[str, object]) -> httpx.Response:
    return http.post("/models/fraud/churn/versions", json={"requirements": requirements})


def test_requirements_round_trip_over_http(http: httpx.Client) -> None:
    assert http.post("/assets", json={"ref": "feature:fraud/agg@2"}).status_code == 201
    created = _register(http, {"packages": [{"requirement": "numpy<2", "file": "r.txt",
                                             "line": 3}], "assets": ["feature:fraud/agg>=2"]})
    assert created.status_code == 201, created.text
    got = http.get(f"/deps/requirements/{CHURN}").json()
    assert got["packages"][0]["origin"] == {"file": "r.txt", "line": 3}
    assert got["assets"][0]["requirement"] == "feature:fraud/agg>=2"
    put = http.put(f"/deps/requirements/{CHURN}", json={"packages": ["scipy"]})
    assert put.status_code == 200 and put.json()["packages"][0]["name"] == "scipy"
    assert http.get(f"/deps/requirements/{CHURN}").json() == put.json()


def test_refusals_are_problem_documents_naming_the_field(http: httpx.Client) -> None:
    refused = _register(http, {"assets": ["feature:fraud/missing>=1"]})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["path"] == "/requirements/assets/0"
    assert http.get("/models/fraud/churn/versions").status_code == 404  # nothing registered
    assert _register(http, {}).status_code == 201
    for method, path, body, field in (
        ("PUT", f"/deps/requirements/{CHURN}", {"packages": ["numpy>>2"]}, "/packages/0"),
        ("PUT", f"/deps/requirements/{CHURN}", {"packages": [7]}, None),
        ("GET", "/deps/requirements/model:fraud/churn", None, "path/ref"),
        ("POST", "/deps/check", {"ref": CHURN}, "/target"),
        ("POST", "/deps/resolve", {"refs": []}, None),
        ("POST", "/deps/resolve", {"refs": [CHURN], "index_snapshot": "x\n"}, "index.txt:1"),
    ):
        answer = http.request(method, path, json=body)
        assert 400 <= answer.status_code < 500, (path, answer.text)
        if field is not None:
            assert answer.json()["errors"][0]["path"] == field
    why = http.get("/deps/why", params={"ref": CHURN, "package": "not a name"})
    assert why.status_code == 422 and why.json()["errors"][0]["path"] == "query/package"


def test_check_resolve_and_why_over_http(http: httpx.Client) -> None:
    http.post("/assets", json={"ref": ENV, "metadata": {"python": "3.11.7",
                                                         "packages": ["numpy==2.1.0"]}})
    _register(http, {"packages": [{"requirement": "numpy<2", "file": "requirements.txt",
                                   "line": 3}]})
    result = http.post("/deps/check", json={"ref": CHURN, "target": ENV}).json()
    assert result["compatible"] is False
    assert result["violations"][0]["message"] == (
        "numpy 2.1.0 does not satisfy <2 (fraud/churn@1, requirements.txt:3)"
    )
    resolved = http.post("/deps/resolve", json={"refs": [CHURN],
                                                "index_snapshot": "numpy 1.26.4\n"}).json()
    assert resolved["ok"] and resolved["pins"] == {"numpy": "1.26.4"}
    why = http.get("/deps/why", params={"ref": CHURN, "package": "numpy"}).json()
    assert why["direct"][0]["origin"]["line"] == 3


def test_client_deps_on_both_transports(client: Client, tmp_path: Path) -> None:
    client.assets.create(ENV, metadata={"python": "3.11.7", "packages": ["numpy==1.26.4"]})
    (tmp_path / "requirements.txt").write_text("numpy>=1.24,<2\npandas>=2\n")
    reg = client.models.register_version(
        "fraud", "churn", requirements=client.deps.read(tmp_path / "requirements.txt"))
    ref = reg.model_version.ref
    assert [p.origin.line for p in client.deps.requirements(ref).packages] == [1, 2]
    checked = client.deps.check(ref, ENV)
    assert [v.subject for v in checked.violations] == ["pandas"]
    freeze = environment_from_freeze("numpy==1.26.4\npandas==2.2.2\n", python="3.11.7")
    assert client.deps.check(ref, environment=freeze).compatible
    index = tmp_path / "index.txt"
    index.write_text("pandas 2.2.2 numpy>=1.26\npandas 2.3.0 numpy>=2\n")
    resolved = client.deps.resolve([ref], index=index)
    assert resolved.pins == {"numpy": "1.26.4", "pandas": "2.2.2"}
    why = client.deps.why(ref, "numpy", index=index)
    assert any(len(chain) == 2 and chain[1].origin is not None
               and chain[1].origin.file == "index.txt" for chain in why.chains)
    stored = client.deps.set_requirements(ref, {"packages": ["scipy"]})
    assert client.deps.requirements(ref) == stored
    with pytest.raises(InvalidInput) as caught:
        client.deps.check(ref)
    assert caught.value.errors[0].path == "/target"
