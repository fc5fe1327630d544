"""The core operations' access control end to end: a real server requiring authentication,
real API tokens, the REST API and the SDK over HTTP. A contributor writes under their own
name, a viewer is refused with a problem document naming the action and the role it needs,
a maintainer's read-only token cannot write, the wrong team sees a 404 and an empty list,
and each refusal is an ``access.denied`` event."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry

API = "/api/v1"
PEOPLE = {"vic": "viewer", "carl": "contributor", "mae": "maintainer"}


@pytest.fixture
def tokens(settings: Settings, registry: Registry) -> Iterator[tuple[str, dict[str, str]]]:
    """A locked server, and a token per person (``mae-read``: mae's read-only token)."""
    for person, role in PEOPLE.items():
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                      "role": role})
    made = {p: registry.create_token({"name": p}, principal=Principal(kind="user", person=p))
            .token for p in (*PEOPLE, "otto")}
    made["mae-read"] = registry.create_token(
        {"name": "ro", "scopes": ["read"]},
        principal=Principal(kind="user", person="mae")).token
    registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    app = create_app(settings.model_copy(update={"auth_required": True}), registry)
    with running_server(app) as url:
        yield url, made


def _as(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url + API, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(("who", "status"), [
    ("carl", 201), ("mae", 201), ("vic", 403), ("mae-read", 403), ("otto", 403)])
def test_creating_an_asset_over_http(tokens: tuple[str, dict[str, str]], registry: Registry,
                                     who: str, status: int) -> None:
    url, made = tokens
    with _as(url, made[who]) as http:
        response = http.post("/assets", json={"ref": "dataset:fraud/new@1"})
    assert response.status_code == status, response.text
    person = who.removesuffix("-read")
    if status == 201:
        assert response.json()["created_by"] == person
        return
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert (problem["code"], problem["action"], problem["required_role"]) == (
        "forbidden", "asset.create", "contributor")
    denial = registry.events().items[-1]
    assert (denial.action, denial.actor, denial.ref) == ("access.denied", person,
                                                         "dataset:fraud/new@1")


def test_the_wrong_team_sees_nothing(tokens: tuple[str, dict[str, str]],
                                     registry: Registry) -> None:
    url, made = tokens
    with _as(url, made["otto"]) as http:
        one = http.get("/assets/dataset:fraud/txns@1")
        missing = http.get("/assets/dataset:fraud/never@1")
        listed = http.get("/assets")
        feed = http.get("/events")
    assert one.status_code == 404 and missing.status_code == 404
    assert one.json()["detail"] == "dataset:fraud/txns@1 does not exist"
    assert listed.json() == {"items": [], "next_cursor": None}
    assert feed.json()["items"] == []
    with Client(url, token=made["otto"]) as client, pytest.raises(NotFound):
        client.assets.get("dataset:fraud/txns@1")
    denied = [(e.actor, e.payload["action"]) for e in registry.events(limit=500).items
              if e.action == "access.denied"]
    assert denied == [("otto", "asset.read"), ("otto", "asset.read")]


def test_the_sdk_over_http_carries_the_callers_rights(
        tokens: tuple[str, dict[str, str]]) -> None:
    url, made = tokens
    with Client(url, token=made["carl"]) as carl:
        registration = carl.models.register_version("fraud", "churn",
                                                    datasets=["dataset:fraud/txns@1"])
        assert registration.model_version.created_by == "carl"
        asset = carl.assets.get(registration.model_version.ref)
        with pytest.raises(Forbidden, match="metadata of a registered version"):
            carl.assets.update(asset.ref, metadata={"framework": "torch"},
                               revision=asset.revision)
    with Client(url, token=made["vic"]) as vic:
        assert [a.ref for a in vic.models.versions("fraud", "churn").items] == [asset.ref]
        with pytest.raises(Forbidden):
            vic.relations.add("dataset:fraud/txns@1", "derived_from", "dataset:fraud/txns@1")
