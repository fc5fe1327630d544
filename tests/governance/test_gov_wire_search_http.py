"""Discovery over HTTP with real API tokens, on a server that requires authentication:
search hits and facet counts, suggestions, related assets, usage and the vocabulary answer
each caller with what their grants allow; the SDK over HTTP gets the same."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Forbidden
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, VersionRegistration

API = "/api/v1"
SPY, CHURN = "model_version:secret/spy@1", "model_version:fraud/churn@1"


@pytest.fixture
def served(settings: Settings, registry: Registry) -> Iterator[tuple[str, dict[str, str]]]:
    """A locked server over two teams' models, and a token per person: vic views fraud,
    tess maintains the registry (``*``), ro is tess's read-only token, nobody holds no
    role."""
    registry.create_asset(AssetCreate(ref="dataset:secret/leak@1"))
    registry.register_version("fraud", "churn", VersionRegistration(
        datasets=["dataset:secret/leak@1"], metadata={"framework": "xgboost"}))
    registry.register_version("secret", "spy", VersionRegistration(
        datasets=["dataset:secret/leak@1"], metadata={"framework": "sklearn"}))
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "vic",
                                  "role": "viewer"})
    registry.grant_role("*", {"principal_type": "user", "principal_name": "tess",
                              "role": "maintainer"})
    tokens = {person: registry.create_token(
        {"name": "t"}, principal=Principal(kind="user", person=person)).token
        for person in ("vic", "tess", "nobody")}
    tokens["ro"] = registry.create_token(
        {"name": "ro", "scopes": ["read"]},
        principal=Principal(kind="user", person="tess")).token
    app = create_app(settings.model_copy(update={"auth_required": True}), registry)
    with running_server(app) as url:
        yield url, tokens


def _http(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url + API, headers={"Authorization": f"Bearer {token}"})


# who -> (versions found, suggested namespaces, may change the vocabulary)
EXPECTED = {
    "vic": ({CHURN}, ["namespace:fraud"], False),
    "tess": ({CHURN, SPY}, ["namespace:fraud", "namespace:secret"], True),
    "ro": ({CHURN, SPY}, ["namespace:fraud", "namespace:secret"], False),
    "nobody": (set(), [], False),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_discovery_answers_each_token_with_what_it_may_read(
        served: tuple[str, dict[str, str]], registry: Registry, who: str) -> None:
    url, tokens = served
    found, namespaces, manages = EXPECTED[who]
    with _http(url, tokens[who]) as http:
        result = http.get("/search", params={"q": "kind:model_version",
                                             "facets": "namespace,dataset"}).json()
        suggested = http.get("/suggest", params={"q": "namespace:"}).json()
        related = http.get(f"/assets/{SPY}/related")
        used = http.post("/usage", json={"signal": "opened", "ref": SPY})
        put = http.put("/taxonomy/terms/vision", json={"description": "images"})
        listed = http.get("/taxonomy/terms")
    assert {a["ref"] for a in result["items"]} == found
    assert {v["value"]: v["count"] for v in result["facets"]["namespace"]} == {
        ref.split(":")[1].split("/")[0]: 1 for ref in found}
    datasets = {v["value"] for v in result["facets"]["dataset"]}
    assert datasets == ({"dataset:secret/leak@1"} if SPY in found else set())
    assert [s["text"] for s in suggested] == namespaces
    reads_spy = SPY in found
    assert related.status_code == (200 if reads_spy else 404)
    assert used.status_code == (204 if reads_spy else 404)
    if not reads_spy:  # the same answer as for an asset that does not exist
        assert related.json()["code"] == "not_found"
    assert put.status_code == (200 if manages else 403)
    assert listed.status_code == 200  # the vocabulary is open to every caller
    assert [t["term"] for t in listed.json()["items"]] == (["vision"] if manages else [])
    denied = [(e.payload["action"], e.ref) for e in registry.events(limit=500).items
              if e.action == "access.denied"]
    expected = [] if reads_spy else [("asset.read", SPY)] * 2
    if not manages:
        expected.append(("taxonomy.manage", "taxonomy:vision"))
    assert sorted(denied) == sorted(expected)


def test_the_sdk_over_http_sees_the_same(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    with Client(url, token=tokens["vic"]) as vic:
        assert [a.ref for a in vic.search("kind:model_version").items] == [CHURN]
        assert [s.text for s in vic.suggest("sp")] == []
        with pytest.raises(Forbidden):
            vic.taxonomy.set("vision")
    with Client(url, token=tokens["tess"]) as tess:
        assert {a.ref for a in tess.search("kind:model_version").items} == {CHURN, SPY}
        assert "spy" in [s.text for s in tess.suggest("sp")]
        assert tess.taxonomy.set("vision").term == "vision"


def test_an_anonymous_caller_is_refused(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    with httpx.Client(base_url=url + API) as http:
        for path in ("/search", "/suggest", "/taxonomy/terms", f"/assets/{CHURN}/related"):
            assert http.get(path).status_code == 401, path
