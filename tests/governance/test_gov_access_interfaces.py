"""Grants and policies end to end: the REST API on a real server (RFC 9457 problem
documents, 403 for a caller without the role), the SDK over HTTP and in-process, and the
``modelatlas access`` commands on both transports."""

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
from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry

API = "/api/v1"


def test_grants_and_policy_over_the_sdk(client: Client) -> None:
    made = client.access.grant("fraud", "group", "risk", "contributor")
    assert (made.principal_type, made.principal_name, made.role) == ("group", "risk",
                                                                     "contributor")
    client.access.grant("*", "user", "root", "admin")
    assert [g.principal_name for g in client.access.grants("fraud")] == ["risk"]
    assert [g.namespace for g in client.access.grants("*")] == ["*"]
    assert client.access.revoke("fraud", "group", "risk").role == "contributor"
    assert client.access.grants("fraud") == []
    with pytest.raises(NotFound):
        client.access.revoke("fraud", "group", "risk")
    with pytest.raises(InvalidInput) as bad:
        client.access.grant("fraud", "robot", "r2", "viewer")
    assert [e.path for e in bad.value.errors] == ["/principal_type"]
    assert client.access.policy("fraud").protected_aliases == ["champion"]
    changed = client.access.set_policy("fraud", protected_aliases=["prod"],
                                       contributors_read_promoted_only=True)
    assert changed.protected_aliases == ["prod"] and changed.contributors_read_promoted_only
    assert client.access.policy("fraud") == changed
    actions = [e.action for e in client.events().items]
    assert actions == ["role.granted", "role.granted", "role.revoked",
                       "namespace.policy_changed"]


def test_the_routes_answer_problem_documents(base_url: str) -> None:
    with httpx.Client(base_url=base_url + API) as http:
        made = http.post("/namespaces/fraud/grants", json={
            "principal_type": "user", "principal_name": "alice", "role": "maintainer"})
        assert made.status_code == 201 and made.json()["created_by"] == "tester"
        assert http.get("/namespaces/fraud/grants").json()[0]["role"] == "maintainer"
        bad = http.post("/namespaces/fraud/grants", json={
            "principal_type": "user", "principal_name": "alice", "role": "owner"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert [e["path"] for e in bad.json()["errors"]] == ["/role"]
        gone = http.delete("/namespaces/fraud/grants/user/bob")
        assert gone.status_code == 404 and gone.json()["code"] == "not_found"
        wrong_type = http.delete("/namespaces/fraud/grants/robot/bob")
        assert wrong_type.status_code == 422
        assert http.delete("/namespaces/fraud/grants/user/alice").json()["role"] == "maintainer"
        put = http.put("/namespaces/fraud/policy", json={"protected_aliases": []})
        assert put.status_code == 200 and put.json()["protected_aliases"] == []
        assert http.get("/namespaces/fraud/policy").json()["contributors_read_promoted_only"] \
            is False
        ns = http.get("/namespaces/Not%20Valid/policy")
        assert ns.status_code == 422 and ns.json()["errors"][0]["path"] == "path/namespace"


@pytest.fixture
def outsider(settings: Settings, registry: Registry) -> Iterator[tuple[str, str]]:
    """A server requiring authentication, and an API token of ``mallory``'s."""
    app = create_app(settings.model_copy(update={"auth_required": True}), registry)
    mallory = Principal(kind="user", person="mallory")
    token = registry.create_token({"name": "laptop"}, principal=mallory).token
    with running_server(app) as url:
        yield url, token


def test_a_caller_without_the_role_gets_403_and_leaves_a_record(
        outsider: tuple[str, str], registry: Registry) -> None:
    outsider_url, token = outsider
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "alice",
                                  "role": "admin"})
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=outsider_url + API, headers=bearer) as http:
        denied = http.post("/namespaces/fraud/grants", json={
            "principal_type": "user", "principal_name": "mallory", "role": "admin"})
        listed = http.get("/namespaces/fraud/grants")
    assert denied.status_code == 403
    problem = denied.json()
    assert (problem["code"], problem["action"], problem["required_role"]) == (
        "forbidden", "grant.manage", "admin")
    assert "alice" not in denied.text  # nothing about who else holds what
    assert listed.status_code == 403 and "alice" not in listed.text
    # the SDK over HTTP rebuilds the same error
    with Client(outsider_url, token=token) as client, pytest.raises(Forbidden):
        client.access.grants("fraud")
    denials = [e for e in registry.events().items if e.action == "access.denied"]
    assert [(e.actor, e.payload["action"]) for e in denials] == [
        ("mallory", "grant.manage"), ("mallory", "grant.read"), ("mallory", "grant.read")]
    assert registry.effective_role(Principal(kind="user", person="mallory"), "fraud") is None


def test_the_access_commands(cli: Cli) -> None:
    access_cli = cli.sub("access")
    out = access_cli("grant", "fraud", "user", "alice", "contributor").stdout
    assert out.strip() == "user alice is contributor in fraud"
    access_cli("grant", "*", "group", "platform", "admin")
    listed = json.loads(access_cli("list", "fraud", "--json").stdout)
    assert [(g["principal_name"], g["role"]) for g in listed] == [("alice", "contributor")]
    assert "alice" in access_cli("list", "fraud").stdout
    shown = access_cli("policy", "fraud").stdout
    assert "protected aliases champion" in shown and "every version" in shown
    access_cli("policy", "fraud", "--protect", "prod", "--protect", "champion",
               "--promoted-only")
    policy = json.loads(access_cli("policy", "fraud", "--json").stdout)
    assert policy["protected_aliases"] == ["champion", "prod"]
    assert policy["contributors_read_promoted_only"] is True
    access_cli("policy", "fraud", "--no-protected")
    policy = json.loads(access_cli("policy", "fraud", "--json").stdout)
    assert policy["protected_aliases"] == [] and policy["contributors_read_promoted_only"]
    assert "revoked" in access_cli("revoke", "fraud", "user", "alice").stdout
    err = access_cli("revoke", "fraud", "user", "alice", code=1).stderr
    assert err.startswith("error: user alice holds no role in fraud")
    bad = access_cli("grant", "fraud", "user", "bob", "owner", code=1).stderr
    assert "/role" in bad
