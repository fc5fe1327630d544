"""The approvals inbox on SQLite and PostgreSQL: what a maintainer of one team sees (their
team's open requests, newest first, paged; the authors' own marked), what it does not (other
teams, answered requests, a viewer's), and the same list through the SDK over HTTP and the
CLI."""

from __future__ import annotations

import pytest

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Conflict, InvalidInput
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.registry.types import VersionRegistration

ADA = Principal(kind="user", person="ada")  # fraud's contributor: registers and asks
MAE = Principal(kind="user", person="mae")  # fraud's maintainer: reviews
OTTO = Principal(kind="user", person="otto")  # maintainer of other only
VIC = Principal(kind="user", person="vic")  # fraud's viewer


def _grant(registry: Registry, ns: str, person: str, role: str) -> None:
    registry.grant_role(ns, {"principal_type": "user", "principal_name": person,
                             "role": role})


def _ask(registry: Registry, ns: str, name: str, who: Principal | None = None) -> None:
    """Register ``ns/name@1`` as ``who`` and ask for production (refused: a request)."""
    registry.register_version(ns, name, VersionRegistration(), principal=who)
    with pytest.raises(Conflict):
        registry.set_stage(ns, name, 1, {"stage": "production", "comment": f"ship {name}"},
                           principal=MAE if who is not None else None)


def _world(registry: Registry) -> None:
    for ns, person, role in (("fraud", "ada", "contributor"), ("fraud", "mae", "maintainer"),
                             ("fraud", "vic", "viewer"), ("other", "otto", "maintainer")):
        _grant(registry, ns, person, role)
    for ns in ("fraud", "other"):
        registry.set_promotion_policy(ns, {"required_approvals": 1})
    for name in ("churn", "ltv", "score"):
        _ask(registry, "fraud", name, ADA)
    _ask(registry, "other", "secret")


def _refs(registry: Registry, who: Principal | None, **query: object) -> list[str]:
    return [r.ref for r in registry.approval_inbox(principal=who, **query).items]  # type: ignore[arg-type]


def test_a_maintainer_sees_their_teams_open_requests_newest_first(registry: Registry) -> None:
    _world(registry)
    fraud = [f"model_version:fraud/{n}@1" for n in ("score", "ltv", "churn")]
    assert _refs(registry, MAE) == fraud
    first = registry.approval_inbox(limit=2, principal=MAE)
    rest = registry.approval_inbox(limit=2, cursor=first.next_cursor, principal=MAE)
    assert [r.ref for r in first.items + rest.items] == fraud and rest.next_cursor is None
    item = first.items[0]
    assert (item.requested_by, item.comment, item.stage, item.requested_stage) == (
        "mae", "ship score", "registered", "production")
    assert item.authors == ["ada"] and not item.authored_by_you
    assert _refs(registry, OTTO) == ["model_version:other/secret@1"]  # not fraud's
    assert _refs(registry, VIC) == [] and _refs(registry, ADA) == []  # no approver role
    assert _refs(registry, None, namespace="other") == ["model_version:other/secret@1"]
    with pytest.raises(InvalidInput):
        registry.approval_inbox(limit=0, principal=MAE)


def test_answered_requests_leave_and_the_author_is_told(registry: Registry) -> None:
    _world(registry)
    result = registry.review_version("fraud", "churn", 1, {"decision": "approve"},
                                     principal=MAE)
    assert result.promoted
    assert "model_version:fraud/churn@1" not in _refs(registry, MAE)
    _grant(registry, "fraud", "ada", "maintainer")  # now ada may approve, but not her own
    mine = registry.approval_inbox(principal=ADA).items
    assert [r.ref for r in mine] == ["model_version:fraud/score@1", "model_version:fraud/ltv@1"]
    assert all(r.authored_by_you for r in mine)


def test_the_inbox_over_http_and_the_cli(settings: Settings, registry: Registry,
                                         local_cli: Cli) -> None:
    _world(registry)
    token = registry.create_token({"name": "mae", "scopes": ["read"]}, principal=MAE).token
    locked = settings.model_copy(update={"auth_required": True})
    with running_server(create_app(locked, registry)) as url, \
            Client(url, token=token) as mae:
        page = mae.lifecycle.inbox(namespace="fraud", limit=1)
        assert [r.ref for r in page.items] == ["model_version:fraud/score@1"]
        assert page.next_cursor is not None
    cli = local_cli.sub("lifecycle")  # the same database: the local user reviews anywhere
    shown = cli("inbox", "--namespace", "other").stdout
    assert "other/secret@1" in shown and "fraud" not in shown
    assert '"ref": "model_version:fraud/churn@1"' in cli("inbox", "--json").stdout
