"""Suggestions, related assets and usage over HTTP (a real server), the SDK on both
transports, and the CLI; bad input is a 4xx problem."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import Registry


@pytest.fixture
def base_url(settings: Settings, org: Registry) -> Iterator[str]:
    with running_server(create_app(settings, org)) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + "/api/v1", timeout=30) as client:
        yield client


def test_http_round_trip_and_opening_an_asset_is_a_signal(http: httpx.Client) -> None:
    before = http.get("/suggest", params={"q": "model:fraud/ch"}).json()
    assert before[0]["text"] == "model:fraud/churn" and before[0]["kind"] == "ref"
    assert http.get("/assets/model:fraud/churnax").status_code == 200
    # the signal is written after the answer is sent: wait for it (bounded)
    deadline = time.monotonic() + 10
    while True:
        after = http.get("/suggest", params={"q": "model:fraud/ch"}).json()
        if after[0]["text"] == "model:fraud/churnax" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert after[0]["text"] == "model:fraud/churnax" and after[0]["score"] > 0
    assert http.post("/usage", json={"signal": "deployed",
                                     "ref": "model:fraud/churn_x"}).status_code == 204
    assert http.get("/suggest", params={"q": "model:fraud/ch"}).json()[0]["text"] == (
        "model:fraud/churn_x")
    related = http.get("/assets/model_version:fraud/churn@1/related", params={"limit": 3})
    assert related.status_code == 200, related.text
    assert len(related.json()) == 3 and related.json()[0]["reasons"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/suggest", {"params": {"q": "x", "limit": 0}}, 422),
    ("GET", "/suggest", {"params": {"q": "x", "limit": 51}}, 422),
    ("GET", "/suggest", {"params": {"q": "x" * 2001}}, 422),
    ("POST", "/usage", {"json": {"signal": "liked", "ref": "model:fraud/churn"}}, 422),
    ("POST", "/usage", {"json": {"signal": "opened", "ref": "model:fraud/nope"}}, 404),
    ("POST", "/usage", {"json": {"signal": "opened", "ref": "not a ref"}}, 422),
    ("POST", "/usage", {"json": {"signal": "opened"}}, 422),
    ("GET", "/assets/model:fraud/nope/related", {}, 404),
])
def test_bad_input_is_a_problem(http: httpx.Client, method: str, path: str,
                                kwargs: dict[str, object], status: int) -> None:
    response = http.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "sqlite" not in response.text.lower() and "psycopg" not in response.text.lower()


@pytest.mark.parametrize("transport", ["http", "local"])
def test_sdk_on_both_transports(request: pytest.FixtureRequest, settings: Settings,
                                transport: str) -> None:
    if transport == "http":
        client = Client(request.getfixturevalue("base_url"))
    else:
        request.getfixturevalue("org")
        client = Client.local(settings.home, database_url=settings.database_url)
    with client:
        assert client.suggest("tag:p")[0].text == "tag:pii"  # on assets: before the vocabulary
        client.record_usage("pulled", "model:fraud/chargeback")
        assert client.suggest("model:fraud/ch")[0].text == "model:fraud/chargeback"
        found = client.related("model_version:fraud/chargeback@1")
        assert "shares dataset:finance/transactions@3" in found[0].reasons
        with pytest.raises(InvalidInput):
            client.record_usage("liked", "model:fraud/churn")
        with pytest.raises(NotFound):
            client.related("model:fraud/nope")


def test_cli(org: Registry, local_cli: Cli) -> None:
    result = local_cli("suggest", "model:fr", "--json")
    assert json.loads(result.stdout)[0]["text"] == "model:fraud/churn"
    assert "chargeback" in local_cli("related", "model_version:fraud/churn@1").stdout
    local_cli("related", "model:fraud/nope", code=1)
