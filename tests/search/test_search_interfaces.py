"""The search through its interfaces: HTTP (a real server), the SDK on both transports,
and the CLI. Bad input is a 4xx problem document, never a 500 or a database message."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import InvalidInput
from modelatlas.registry import Registry
from modelatlas.search.parser import QuerySyntaxError

BAD_QUERIES = [
    "kind:", "(a", "colour:red", "metrics.auc>abc", "x" * 2001, "(" * 30 + "a" + ")" * 30,
    "'; DROP TABLE assets; --", "kind:'; DROP TABLE assets; --", 'a "open',
    "trained_on:dataset:'; DROP TABLE x --", "created>2025-13-45", "name:*",
]
ODD_BUT_FINE = ["name:%*", "tag:_", "ünïcödé", "meta.x:\"a\\\"b\"", "owner:%'--"]


@pytest.fixture
def base_url(settings: Settings, org: Registry) -> Iterator[str]:
    with running_server(create_app(settings, org)) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url + "/api/v1", timeout=30) as client:
        yield client


def test_search_over_http(http: httpx.Client) -> None:
    first = http.get("/search", params={"q": "kind:model_version", "facets": "namespace",
                                        "sort": "name", "limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["query"] == "kind:model_version"
    assert [a["ref"] for a in body["items"]] == ["model_version:fraud/churn@1",
                                                 "model_version:fraud/churn@2"]
    assert {f["value"]: f["count"] for f in body["facets"]["namespace"]} == {
        "fraud": 4, "growth": 1}
    second = http.get("/search", params={"q": "kind:model_version", "facets": "",
                                         "sort": "name", "limit": 2,
                                         "cursor": body["next_cursor"]}).json()
    assert second["facets"] == {}
    assert [a["ref"] for a in second["items"]] == ["model_version:fraud/churn@3",
                                                   "model_version:fraud/churn_10@1"]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_queries_are_problems(http: httpx.Client, query: str) -> None:
    response = http.get("/search", params={"q": query})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] in ("query_syntax", "invalid_query", "invalid_input",
                               "invalid_ref", "unknown_kind")
    assert problem["errors"] and problem["errors"][0]["path"] == "query/q"
    assert "column" in problem["errors"][0]["message"] or "characters" in problem["detail"]
    assert "sqlite" not in response.text.lower() and "psycopg" not in response.text.lower()


@pytest.mark.parametrize("query", ODD_BUT_FINE)
def test_wildcards_and_unicode_are_plain_values(http: httpx.Client, query: str) -> None:
    response = http.get("/search", params={"q": query})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize(("params", "path"), [
    ({"sort": "colour"}, "query/sort"), ({"facets": "nope"}, "query/facets"),
    ({"cursor": "zzz"}, "query/cursor"), ({"cursor": "W10"}, "query/cursor"),
])
def test_bad_parameters_are_problems(http: httpx.Client, params: dict[str, str],
                                     path: str) -> None:
    response = http.get("/search", params={"q": "", **params})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == path


@pytest.fixture(params=["http", "local"])
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Client]:
    if request.param == "http":
        made = Client(request.getfixturevalue("base_url"))
    else:
        request.getfixturevalue("org")
        made = Client.local(settings.home, database_url=settings.database_url)
    with made:
        yield made


def test_sdk_search_on_both_transports(client: Client) -> None:
    result = client.search("served_by:deployment:fraud/churn-prod", facets=["framework"])
    assert [a.ref for a in result.items] == ["model_version:fraud/churn@1"]
    assert [(v.value, v.count) for v in result.facets["framework"]] == [("xgboost", 1)]
    with pytest.raises(QuerySyntaxError) as caught:
        client.search("(a")
    assert "column 3" in caught.value.detail
    with pytest.raises(InvalidInput):
        client.search("metrics.auc>abc")


def test_cli_search(org: Registry, local_cli: Cli) -> None:
    table = local_cli("search", "trained_on*:dataset:finance/transactions",
                      "--facet", "framework", "--sort", "-metrics.auc").stdout
    assert "model_version:fraud/churn@3" in table and "xgboost (2)" in table
    data = json.loads(local_cli("search", "namespace:growth", "--json", "--limit", "1").stdout)
    assert len(data["items"]) == 1 and data["next_cursor"]
    assert "column 6" in local_cli("search", "kind:", code=1).stderr
