"""``modelatlas tokens``: create prints the secret once, list never does, revoke works."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modelatlas.cli import app


def test_tokens_create_list_revoke(tmp_path: Path, database_url: str) -> None:
    env = {"MODELATLAS_DATABASE_URL": database_url, "MODELATLAS_ACTOR": "ada"}
    home = ["--home", str(tmp_path)]
    runner = CliRunner()
    created = runner.invoke(app, ["tokens", "create", "--name", "ci", "--scope", "read",
                                  "--json", *home], env=env)
    assert created.exit_code == 0, created.output
    token = json.loads(created.stdout)
    assert token["token"].startswith("mat_") and token["person"] == "ada"
    assert "only time the token is shown" in created.stderr
    listed = runner.invoke(app, ["tokens", "list", "--json", *home], env=env)
    assert token["token"] not in listed.stdout
    assert [t["token_id"] for t in json.loads(listed.stdout)] == [token["token_id"]]
    revoked = runner.invoke(app, ["tokens", "revoke", token["token_id"], *home], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    missing = runner.invoke(app, ["tokens", "revoke", "0000000000000000", *home], env=env)
    assert missing.exit_code == 1 and "no token" in missing.stderr
