"""Authentication at the HTTP boundary, through a real server: every route refuses an
anonymous or badly credentialed caller (the routes come from the app, not a list), the
401 says how to authenticate, forwarded identity is believed only from a trusted proxy,
and the server refuses to start on a broken configuration."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from modelatlas.api import create_app
from modelatlas.api._deps import PUBLIC_PATHS
from modelatlas.api.testing import running_server
from modelatlas.cli import app as cli_app
from modelatlas.cli.setup import check_serve
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import InvalidInput, Unauthenticated, Unavailable
from modelatlas.governance import Principal
from modelatlas.registry import Registry
from routes import walk_routes

ADA = Principal(kind="user", person="ada")
FILLERS = {"ref": "model:fraud/churn", "namespace": "fraud", "name": "churn"}


def _serve(settings: Settings, registry: Registry, **changes: object) -> Iterator[str]:
    with running_server(create_app(settings.model_copy(update=changes), registry)) as url:
        yield url


@pytest.fixture
def locked_url(settings: Settings, registry: Registry) -> Iterator[str]:
    """A server that requires authentication (generous failure budget: the route sweep
    sends one bad credential per route from one address)."""
    del registry  # a registry of its own, whose failure limiter has that budget
    generous = settings.model_copy(update={"auth_required": True,
                                           "auth_failures_per_minute": 10_000})
    own = Registry.open(generous)
    try:
        yield from _serve(generous, own)
    finally:
        own.close()


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: FILLERS.get(m[1], "x"), path)


def _routes(settings: Settings, registry: Registry) -> list[tuple[str, str]]:
    app = create_app(settings.model_copy(update={"auth_required": True}), registry)
    found = list(walk_routes(app.routes))
    assert len(found) > 40  # the sweep sees the whole API, not a handful
    return found


def test_every_route_refuses_anonymous_and_bad_credentials(
        locked_url: str, settings: Settings, registry: Registry) -> None:
    with httpx.Client(base_url=locked_url) as http:
        for method, path in _routes(settings, registry):
            for headers in ({}, {"Authorization": "Bearer mat_not-a-real-token"},
                            {"Authorization": "Basic YWRhOnNlY3JldA=="}):
                # a body that is not even JSON: who is calling is settled before it is read
                body = b"not json" if method in ("POST", "PUT", "PATCH") else None
                response = http.request(method, _concrete(path), headers=headers,
                                        content=body)
                if path in PUBLIC_PATHS:
                    assert response.status_code < 400, (method, path)
                    continue
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_401_is_a_problem_document_that_leaks_nothing(locked_url: str) -> None:
    response = httpx.get(f"{locked_url}/api/v1/assets",
                         headers={"Authorization": "Bearer mat_0123456789abcdef_" + "A" * 43})
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"]) == ("unauthenticated", "the token is not valid")
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()


def test_a_token_authenticates_the_sdk_and_writes_as_its_person(
        locked_url: str, registry: Registry) -> None:
    created = registry.create_token({"name": "sdk"}, principal=ADA)
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "ada",
                                  "role": "contributor"})  # writing needs a role now
    with Client(locked_url, token=created.token) as client:
        asset = client.assets.create("dataset:fraud/txns@1")
        assert asset.created_by == "ada"
        assert [t.token_id for t in client.tokens.list()] == [created.token_id]
        second = client.tokens.create(name="second", scopes=["read"])
        assert second.person == "ada" and second.token.startswith("mat_")
        client.tokens.revoke(second.token_id)
    with Client(locked_url, token=second.token) as revoked, pytest.raises(
            Unauthenticated, match="revoked"):
        revoked.assets.get("dataset:fraud/txns@1")
    with Client(locked_url) as anonymous, pytest.raises(Unauthenticated):
        anonymous.assets.get("dataset:fraud/txns@1")


def test_openapi_is_served_only_to_an_authenticated_caller(
        locked_url: str, registry: Registry) -> None:
    token = registry.create_token({}, principal=ADA).token
    assert httpx.get(f"{locked_url}/openapi.json").status_code == 401
    response = httpx.get(f"{locked_url}/openapi.json",
                         headers={"Authorization": f"Bearer {token}"})
    assert "/api/v1/tokens" in response.json()["paths"]
    assert httpx.get(f"{locked_url}/healthz").json() == {"status": "ok"}


def test_forwarded_identity_is_ignored_from_an_untrusted_address(
        settings: Settings, registry: Registry) -> None:
    forged = {"X-Forwarded-User": "root"}
    for url in _serve(settings, registry, auth_required=True):
        response = httpx.get(f"{url}/api/v1/assets", headers=forged)
        assert response.status_code == 401
    for url in _serve(settings, registry):  # no auth required: still the local actor
        response = httpx.post(f"{url}/api/v1/assets", headers=forged,
                              json={"ref": "dataset:fraud/forged@1"})
        assert response.json()["created_by"] == "tester"


def test_forwarded_identity_is_believed_from_a_trusted_proxy(
        settings: Settings, registry: Registry) -> None:
    registry.grant_role("fraud", {"principal_type": "user", "principal_name": "grace",
                                  "role": "contributor"})  # writing needs a role now
    for url in _serve(settings, registry, auth_required=True, trusted_proxies="127.0.0.1"):
        response = httpx.post(f"{url}/api/v1/assets", headers={"X-Forwarded-User": "grace"},
                              json={"ref": "dataset:fraud/proxied@1"})
        assert response.json()["created_by"] == "grace"


@pytest.mark.parametrize(("changes", "match"), [
    ({"oidc_issuer": "https://idp.example"}, "MODELATLAS_OIDC_AUDIENCE"),
    ({"oidc_issuer": "https://idp.example", "oidc_audience": "x",
      "oidc_algorithms": "RS256,HS256"}, "MODELATLAS_OIDC_ALGORITHMS"),
    ({"oidc_audience": "x"}, "MODELATLAS_OIDC_ISSUER"),
    ({"trusted_proxies": "10.0.0.0/8,proxy.local"}, "MODELATLAS_TRUSTED_PROXIES"),
])
def test_a_broken_configuration_stops_the_app_factory(
        tmp_path: Path, changes: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        create_app(Settings(home=tmp_path, **changes))  # type: ignore[arg-type]


def test_an_unreachable_identity_provider_stops_the_app_factory(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, oidc_issuer="http://127.0.0.1:9",
                        oidc_audience="modelatlas")
    registry = Registry.open(settings)
    try:
        with pytest.raises(Unavailable, match="misconfigured"):
            create_app(settings, registry)
    finally:
        registry.close()


def test_serve_refuses_to_listen_beyond_loopback_without_authentication(
        tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--home",
                                          str(tmp_path)])
    assert result.exit_code == 1
    assert "refusing to listen on 0.0.0.0 without authentication" in result.output
    # what passes the guard (checked without starting a server)
    check_serve("127.0.0.1", Settings(home=tmp_path))
    check_serve("::1", Settings(home=tmp_path))
    check_serve("0.0.0.0", Settings(home=tmp_path, auth_required=True))


def test_serve_refuses_a_broken_configuration(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--home", str(tmp_path)],
                                env={"MODELATLAS_OIDC_ISSUER": "https://idp.example"})
    assert result.exit_code == 1
    assert "MODELATLAS_OIDC_AUDIENCE" in result.output
