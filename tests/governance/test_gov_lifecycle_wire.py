"""Lifecycle and approvals end to end: through a real server with real API tokens (the
SDK over HTTP), the CLI, and a roles x operations matrix, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Conflict, Forbidden
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.registry.types import VersionRegistration

NS = "fraud"
V1 = "model_version:fraud/churn@1"
API = "/api/v1/models/fraud/churn/versions/1"


def _token(registry: Registry, person: str) -> str:
    return registry.create_token({"name": person, "scopes": ["admin"]},
                                 principal=Principal(kind="user", person=person)).token


def test_promotion_with_two_approvals_over_http(settings: Settings, registry: Registry) -> None:
    for person, role in (("ada", "contributor"), ("mae", "maintainer"), ("max", "maintainer"),
                         ("root", "admin")):
        registry.grant_role(NS, {"principal_type": "user", "principal_name": person,
                                 "role": role})
    tokens = {p: _token(registry, p) for p in ("ada", "mae", "max", "root")}
    mae_second = _token(registry, "mae")
    locked = settings.model_copy(update={"auth_required": True})
    with running_server(create_app(locked, registry)) as url:
        def client(person: str) -> Client:
            return Client(url, token=tokens[person])

        with client("ada") as ada:
            ada.models.register_version(NS, "churn")
            ada.lifecycle.comment(V1, "ready for review")
        with client("root") as root:
            assert root.lifecycle.set_policy(NS, required_approvals=2).required_approvals == 2
        with client("mae") as mae:
            with pytest.raises(Conflict) as refused:
                mae.lifecycle.set_stage(V1, "production")
            assert [e.path for e in refused.value.errors] == ["/approvals"]
            assert mae.lifecycle.approve(V1).counted
        with Client(url, token=mae_second) as again:
            assert not again.lifecycle.approve(V1).counted  # one person, one voice
        with httpx.Client(base_url=url) as http:
            denied = http.post(f"{API}/approvals", json={"decision": "approve"},
                               headers={"Authorization": f"Bearer {tokens['ada']}"})
            assert denied.status_code == 403  # a contributor; and the author anyway
            done = http.post(f"{API}/approvals", json={"decision": "approve"},
                             headers={"Authorization": f"Bearer {tokens['max']}"})
            assert done.status_code == 201 and done.json()["promoted"] is True
            status = http.get(f"{API}/promotion",
                              headers={"Authorization": f"Bearer {tokens['ada']}"}).json()
            assert status["stage"] == "production" and status["approvers"] == ["mae", "max"]
        with client("ada") as ada:
            kinds = [r.kind for r in ada.lifecycle.reviews(V1).items]
    assert kinds == ["comment", "request", "approval", "approval", "approval"]
    assert registry.get_asset(V1).state == "production"


def test_the_cli_moves_reviews_and_reports(local_cli: Cli) -> None:
    with local_cli.registry() as registry:  # the arranger registers: tester may review
        registry.register_version(NS, "churn", VersionRegistration())
    cli = local_cli.sub("lifecycle")
    cli("set-policy", NS, "--approvals", "1")
    failed = cli("stage", V1, "production", code=1)
    assert "/approvals" in failed.stderr and "0 of 1" in failed.stderr
    assert "[ ] approvals" in cli("status", V1).stdout
    approved = cli("approve", V1, "--comment", "fine")
    assert "is now production" in approved.stdout
    assert "release_note" not in cli("reviews", V1).stdout
    assert '"required_approvals": 1' in cli("policy", NS, "--json").stdout
    cli("stage", V1, "archived", "--release-notes", "retired")
    assert "retired" in cli("reviews", V1, "--kind", "release_note").stdout


ROLES = ("viewer", "contributor", "maintainer", "admin")


def _next(registry: Registry) -> str:
    return "production" if registry.get_asset(V1).state == "staging" else "staging"


def _operations(registry: Registry) -> dict[str, tuple[str, Callable[[Principal], Any]]]:
    """Each operation: the least role it needs, and how to call it."""
    return {
        "set stage": ("maintainer", lambda p: registry.set_stage(
            NS, "churn", 1, {"stage": _next(registry)}, principal=p)),
        "approve": ("maintainer", lambda p: registry.review_version(
            NS, "churn", 1, {"decision": "approve"}, principal=p)),
        "comment": ("contributor", lambda p: registry.comment_version(
            NS, "churn", 1, {"body": "hi"}, principal=p)),
        "set policy": ("admin", lambda p: registry.set_promotion_policy(
            NS, {"required_approvals": 1}, principal=p)),
        "read policy": ("viewer", lambda p: registry.promotion_policy(NS, principal=p)),
        "read reviews": ("viewer", lambda p: registry.version_reviews(
            NS, "churn", 1, principal=p)),
    }


def test_roles_by_operations(registry: Registry) -> None:
    """One world; every cell allowed or denied as the role order says (an allowed stage
    change moves the version on, so the next one asks for the stage after it)."""
    registry.register_version(NS, "churn", VersionRegistration())
    for role in ROLES:
        registry.grant_role(NS, {"principal_type": "user", "principal_name": role,
                                 "role": role})
    operations, outcomes = _operations(registry), {}
    for role in ROLES:
        for name, (_least, call) in operations.items():
            try:
                call(Principal(kind="user", person=role))
                outcomes[(role, name)] = True
            except (Forbidden, Conflict) as exc:
                assert isinstance(exc, Forbidden), (role, name, exc)
                outcomes[(role, name)] = False
    expected = {(role, name): ROLES.index(role) >= ROLES.index(least)
                for role in ROLES for name, (least, _) in operations.items()}
    assert outcomes == expected
    denials = [e for e in registry.events(limit=500).items if e.action == "access.denied"]
    assert len(denials) == list(expected.values()).count(False)
