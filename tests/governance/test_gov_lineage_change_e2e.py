"""Aliases and lineage change approval end to end, once each way in: raw HTTP against a real
server that requires authentication (202 Accepted, alias resolution in /assets), the SDK
over HTTP with three people's tokens, and the CLI over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from test_gov_lineage_change_service import PROD, _world

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Forbidden
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.registry.alias_types import LineageChange


def test_aliases_and_lineage_changes_over_http_sdk_and_cli(
        settings: Settings, registry: Registry, tmp_path: Path) -> None:
    _world(registry)
    token = {person: registry.create_token({"name": person}, principal=Principal(
        kind="user", person=person)).token for person in ("carl", "mae", "max")}
    locked = settings.model_copy(update={"auth_required": True})
    with (running_server(create_app(locked, registry)) as url,
          httpx.Client(base_url=f"{url}/api/v1") as http,
          Client(url, token=token["carl"]) as carl, Client(url, token=token["mae"]) as mae,
          Client(url, token=token["max"]) as max_):
        as_carl = {"Authorization": f"Bearer {token['carl']}"}
        # aliases: a contributor's challenger, a maintainer's champion, resolved in /assets
        assert carl.aliases.set("fraud", "churn", "challenger", 2).set_by == "carl"
        with pytest.raises(Forbidden, match="protected"):
            carl.aliases.set("fraud", "churn", "champion", 1)
        mae.aliases.set("fraud", "churn", "champion", PROD)
        answer = http.get("/assets/model_version:fraud/churn@champion", headers=as_carl)
        assert (answer.status_code, answer.json()["ref"]) == (200, PROD)
        wrong = http.put("/models/fraud/churn/aliases/champion",
                         headers={"Authorization": f"Bearer {token['mae']}"},
                         json={"version": "model_version:fraud/other@1"})
        assert (wrong.status_code, wrong.json()["errors"][0]["path"]) == (422, "/version")
        # a lineage edge of the production version: 202 and a pending request
        sent = http.post("/relations", headers=as_carl, json={
            "source": PROD, "relation": "derived_from", "target": "dataset:fraud/extra@1"})
        assert sent.status_code == 202 and sent.json()["status"] == "pending"
        added = carl.relations.add(PROD, "derived_from", "dataset:fraud/more@1")
        assert isinstance(added, LineageChange) and added.status == "pending"
        removal = mae.relations.remove("run:fraud/churn-v1", "produced", PROD)
        assert isinstance(removal, LineageChange)
        with pytest.raises(Forbidden, match="another maintainer"):
            mae.lineage_changes.approve(removal.id)
        applied = max_.lineage_changes.approve(added.id, comment="checked")
        assert (applied.status, applied.decided_by) == ("applied", "max")
        assert any(r.target == "dataset:fraud/more@1"
                   for r in carl.assets.relations(PROD, direction="out").items)
        # the CLI, as max over HTTP: the queue, a rejection, the aliases
        cli = Cli(tmp_path / "home", settings.database_url, url)
        cli.env["MODELATLAS_TOKEN"] = token["max"]
        queue = cli("lineage-change", "list", "--status", "pending").stdout
        assert f"#{removal.id} pending: - run:fraud/churn-v1 -produced-> {PROD}" in queue
        cli("lineage-change", "reject", str(removal.id), "-m", "keep it")
        assert mae.lineage_changes.get(removal.id).status == "rejected"
        assert "champion\tmodel_version:fraud/churn@1\tmae" in cli("alias", "list",
                                                                  "fraud/churn").stdout
        cli.env["MODELATLAS_TOKEN"] = token["carl"]
        linked = cli("link", PROD, "derived_from", "dataset:fraud/tx@1").stdout
        assert linked.startswith("requested #") and "awaits" in linked
        refused = cli("alias", "set", "fraud/churn", "champion", "2", code=1)
        assert "protected" in refused.stderr
