"""Deprecation at the edges, on both backends: the routes and their problem documents, the
``Deprecation``/``Sunset``/``Link`` headers of a deprecated version over a real server, the
SDK's warning over HTTP and in-process (the same words), and the CLI on both transports."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from cli_harness import Cli, one_line_error
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client, ModelAtlasDeprecationWarning, quote_ref
from modelatlas.config import Settings
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, RelationCreate
from modelatlas.registry.deprecation_types import parse_time
from modelatlas.registry.types import VersionRegistration

V1, V2 = "model_version:fraud/churn@1", "model_version:fraud/churn@2"
PLAN = {"sunset": "2099-01-01", "reason": "leaks a feature", "replacement": V2}


def _arrange(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:fraud/tx@1"))
    for _ in range(2):
        registry.register_version("fraud", "churn",
                                  VersionRegistration(datasets=["dataset:fraud/tx@1"]))
    registry.create_asset(AssetCreate(ref="deployment:shop/api"))
    registry.add_relation(RelationCreate(source="deployment:shop/api", relation="serves",
                                         target=V1))
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "carl",
                                  "role": "contributor"})


def _asset(http: httpx.Client, ref: str) -> httpx.Response:
    answer = http.get(f"/api/v1/assets/{quote_ref(ref)}")
    assert answer.status_code == 200, answer.text
    return answer


def test_routes_headers_and_the_sdk_warning(settings: Settings, registry: Registry,
                                            tmp_path: Path) -> None:
    _arrange(registry)
    carl = registry.create_token({"name": "carl"},
                                 principal=Principal(kind="user", person="carl")).token
    path = f"/api/v1/deprecations/{quote_ref(V1)}"
    with running_server(create_app(settings, registry)) as url, \
            httpx.Client(base_url=url) as http:
        bad = http.post(path, json={**PLAN, "sunset": "2001-01-01"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "/sunset"
        refused = http.post(path, json=PLAN, headers={"Authorization": f"Bearer {carl}"})
        assert refused.status_code == 403, refused.text
        assert "Deprecation" not in _asset(http, V1).headers
        made = http.post(path, json=PLAN)
        assert made.status_code == 200, made.text
        headers = _asset(http, V1).headers
        announced = parse_time(made.json()["announced_at"])
        assert headers["Deprecation"] == f"@{int(announced.timestamp())}"
        assert headers["Sunset"] == "Thu, 01 Jan 2099 00:00:00 GMT"
        assert parsedate_to_datetime(headers["Sunset"]).year == 2099
        assert headers["Link"] == (f'</api/v1/assets/{quote_ref(V2)}>; '
                                   'rel="successor-version"')
        assert "Deprecation" not in _asset(http, V2).headers
        report = http.get("/api/v1/reports/deprecated-deployments").json()
        assert [(i["deployment"], i["version"]) for i in report["items"]] == [
            ("deployment:shop/api", V1)]

        with Client(url) as client, pytest.warns(ModelAtlasDeprecationWarning) as remote:
            assert client.assets.get(V1).ref == V1
        assert remote[0].filename == __file__  # points at the caller's line
        with Client(url) as client:
            client.assets.get(V2)  # no warning (filterwarnings=error would fail here)
            assert client.deprecations.get(V1).replacement == V2
        local = Client.local(tmp_path / "local", database_url=settings.database_url)
        with local, pytest.warns(ModelAtlasDeprecationWarning) as here:
            local.assets.get(V1)
        assert here[0].filename == __file__
        assert str(remote[0].message) == str(here[0].message)
        assert "2099-01-01T00:00:00" in str(here[0].message) and V2 in str(here[0].message)

        gone = http.delete(path)
        assert gone.status_code == 200 and gone.json()["sunset"].startswith("2099-01-01")
        assert "Deprecation" not in _asset(http, V1).headers
        assert http.get(path).status_code == 404
        assert http.delete(path).status_code == 404


def test_the_cli_deprecates_reports_and_withdraws(cli: Cli) -> None:
    with cli.registry() as registry:
        _arrange(registry)
    shown = cli("deprecate", V1, "--sunset", "2099-01-01", "--reason", "leaks a feature",
                "--replacement", V2)
    assert f"{V1} is deprecated: sunset 2099-01-01" in shown.stdout
    assert "1 deployment" in shown.stdout
    report = json.loads(cli("report", "deprecated-deployments", "--json").stdout)
    assert [(i["deployment"], i["replacement"]) for i in report["items"]] == [
        ("deployment:shop/api", V2)]
    assert "no longer deprecated" in cli("deprecate", V1, "--withdraw").stdout
    assert "no deployment" in cli("report", "deprecated-deployments").stdout
    missing = cli("deprecate", V1, "--reason", "x", code=1)  # refused before any request
    assert "--sunset" in one_line_error(missing.stderr)
