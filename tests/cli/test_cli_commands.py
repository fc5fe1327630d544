"""Each command through CliRunner against a temporary MODELATLAS_HOME on both backends,
once in-process (local registry) and once over HTTP against a real server: tables for
people, JSON for programs, one-line errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.cli import app
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.registry import Registry

DATASET = "dataset:finance/transactions@3"


@dataclass
class Cli:
    home: Path
    database_url: str
    env: dict[str, str | None]
    runner: CliRunner

    def __call__(self, *args: str, code: int = 0) -> Result:
        """Run ``modelatlas ARGS``; fail the test unless it exits with ``code``."""
        result = self.runner.invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (
            f"modelatlas {' '.join(args)} exited {result.exit_code}, not {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    def client(self) -> Client:
        """A client on the same registry, to arrange what a test needs beforehand."""
        return Client.local(self.home, database_url=self.database_url, actor="arranger")


def _env(home: Path, database_url: str, url: str | None) -> dict[str, str | None]:
    return {
        "MODELATLAS_HOME": str(home),
        "MODELATLAS_DATABASE_URL": database_url,
        "MODELATLAS_ACTOR": "tester",
        "MODELATLAS_URL": url,
        "COLUMNS": "200",  # tables wide enough that refs are never folded
    }


@pytest.fixture
def local_cli(tmp_path: Path, database_url: str) -> Cli:
    home = tmp_path / "home"
    return Cli(home, database_url, _env(home, database_url, None), CliRunner())


@pytest.fixture(params=["local", "http"])
def cli(request: pytest.FixtureRequest, local_cli: Cli) -> Iterator[Cli]:
    """The CLI on the local registry, or with MODELATLAS_URL set to a live server."""
    if request.param == "local":
        yield local_cli
        return
    settings = Settings(home=local_cli.home, database_url=local_cli.database_url,
                        actor="server")
    registry = Registry.open(settings)
    try:
        with running_server(create_app(settings, registry)) as url:
            env = _env(local_cli.home, local_cli.database_url, url)
            yield Cli(local_cli.home, local_cli.database_url, env, CliRunner())
    finally:
        registry.close()


def _json(text: str) -> Any:
    return json.loads(text)


def _one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_init_creates_and_migrates_the_home(local_cli: Cli) -> None:
    result = local_cli("init")
    assert local_cli.home.is_dir()
    assert str(local_cli.home) in result.stdout
    local_cli("init")  # again: nothing to migrate, still fine
    with local_cli.client() as client:
        assert client.assets.list().items == []


def test_register_from_flags(cli: Cli, tmp_path: Path) -> None:
    with cli.client() as client:
        client.assets.create(DATASET, metadata={"row_count": 1000})
    weights = tmp_path / "model.ubj"
    weights.write_bytes(b"\x00weights" * 1000)
    result = cli(
        "register", "fraud/card-fraud-detector", "--metric", "auc=0.93", "--metric", "f1=0.71",
        "--dataset", DATASET, "--param", "max_depth=6", "--param", "booster=gbtree",
        "--seed", "numpy=42", "--tag", "candidate", "--framework", "xgboost",
        "--description", "weekly retrain", "--artifact", str(weights), "--json",
    )
    reg = _json(result.stdout)
    version = reg["model_version"]
    assert version["ref"] == "model_version:fraud/card-fraud-detector@1"
    assert version["metadata"]["metrics"] == {"auc": 0.93, "f1": 0.71}
    assert version["metadata"]["framework"] == "xgboost"
    assert version["tags"] == ["candidate"]
    [artifact] = version["metadata"]["artifacts"]
    assert artifact["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert artifact["size"] == 8000 and artifact["uri"] == weights.resolve().as_uri()
    assert reg["run"]["metadata"]["parameters"] == {"max_depth": 6, "booster": "gbtree"}
    assert reg["run"]["metadata"]["seeds"] == {"numpy": 42}
    assert {"relation": "used", "target": DATASET} in [
        {"relation": r["relation"], "target": r["target"]} for r in reg["relations"]
    ]
    # without --json: just the new ref, and the next number
    again = cli("register", "fraud/card-fraud-detector", "--metric", "auc=0.94")
    assert again.stdout.strip() == "model_version:fraud/card-fraud-detector@2"


YAML_MANIFEST = """\
model: growth/churn-propensity
description: Monthly churn model
tags: [tier-2]
metadata:
  framework: lightgbm
  metrics: {auc: 0.88, recall: 0.61}
run:
  metadata:
    started_at: 2024-05-01T10:00:00Z
    parameters: {num_leaves: 63}
datasets:
  - ref: dataset:growth/user-sessions@4
    metadata: {format: parquet, row_count: 2100000}
"""


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_register_from_a_manifest(cli: Cli, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"manifest{suffix}"
    if suffix == ".json":
        document = yaml.safe_load(YAML_MANIFEST)
        document["run"]["metadata"]["started_at"] = "2024-05-01T10:00:00Z"
        path.write_text(json.dumps(document))
    else:
        path.write_text(YAML_MANIFEST)
    result = cli("register", "--manifest", str(path), "--metric", "f1=0.52", "--json")
    reg = _json(result.stdout)
    assert reg["model_version"]["ref"] == "model_version:growth/churn-propensity@1"
    # flags add to the manifest
    assert reg["model_version"]["metadata"]["metrics"] == {"auc": 0.88, "recall": 0.61,
                                                           "f1": 0.52}
    assert "dataset:growth/user-sessions@4" in reg["created"]
    assert reg["run"]["metadata"]["started_at"].startswith("2024-05-01T10:00:00")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("dup.json", '{"model": "fraud/m", "tags": [], "tags": ["x"]}', "duplicate key 'tags'"),
        ("extra.yaml", "model: fraud/m\nlabels: [x]\n", "/labels"),
        ("nan.yaml", "model: fraud/m\nmetadata: {metrics: {auc: .nan}}\n", "finite"),
        ("list.yaml", "- model: fraud/m\n", "must hold a mapping"),
        ("broken.yaml", "model: [fraud/m\n", "not valid YAML"),
        ("nomodel.yaml", "description: no model named\n", "NAMESPACE/NAME"),
    ],
)
def test_a_bad_manifest_is_a_one_line_error(
    local_cli: Cli, tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = local_cli("register", "--manifest", str(path), code=1)
    assert expected in _one_line_error(result.stderr)


def test_bad_flags_are_usage_errors(local_cli: Cli) -> None:
    for flag in (["--metric", "auc"], ["--metric", "auc=high"], ["--seed", "numpy=0.5"]):
        result = local_cli("register", "fraud/m", *flag, code=2)
        assert "Traceback" not in result.output
    result = local_cli("register", "fraud/m", "--artifact", "s3://bucket/model.bin", code=1)
    assert "not a local file" in _one_line_error(result.stderr)


def test_show_ls_and_history(cli: Cli) -> None:
    cli("register", "risk/credit-default-pd", "--metric", "auc=0.81", "--tag", "ifrs9")
    cli("register", "risk/credit-default-pd", "--metric", "auc=0.83")
    ref = "model_version:risk/credit-default-pd@2"

    table = cli("show", ref).stdout
    assert ref in table and "auc" in table and "version_of" in table
    shown = _json(cli("show", ref, "--json").stdout)
    assert shown["ref"] == ref and shown["metadata"]["metrics"] == {"auc": 0.83}

    listing = cli("ls", "--kind", "model_version").stdout
    assert "model_version:risk/credit-default-pd@1" in listing and ref in listing
    first = _json(cli("ls", "--kind", "model_version", "--limit", "1", "--json").stdout)
    assert [a["ref"] for a in first["items"]] == ["model_version:risk/credit-default-pd@1"]
    assert first["next_cursor"]
    rest = _json(cli("ls", "--kind", "model_version", "--cursor", first["next_cursor"],
                     "--json").stdout)
    assert [a["ref"] for a in rest["items"]] == [ref] and rest["next_cursor"] is None
    tagged = _json(cli("ls", "--tag", "ifrs9", "--json").stdout)
    assert [a["ref"] for a in tagged["items"]] == ["model_version:risk/credit-default-pd@1"]
    everything = _json(cli("ls", "--all", "--limit", "2", "--json").stdout)
    # the model and its two versions (no inputs, so no runs), over two pages of two
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None

    events = _json(cli("history", ref, "--json").stdout)
    actions = [e["action"] for e in events["items"]]
    assert actions[0] == "model_version.registered" and "relation.added" in actions
    assert "model_version.registered" in cli("history", ref).stdout


def test_link_and_remove(cli: Cli) -> None:
    with cli.client() as client:
        client.assets.create(DATASET)
        client.assets.create("evaluation:fraud/holdout-2024q2")
    cli("register", "fraud/card-fraud-detector")
    version = "model_version:fraud/card-fraud-detector@1"
    linked = cli("link", "evaluation:fraud/holdout-2024q2", "evaluated", version,
                 "--property", "split=holdout", "--json")
    edge = _json(linked.stdout)
    assert edge["target"] == version and edge["properties"] == {"split": "holdout"}
    cli("link", "evaluation:fraud/holdout-2024q2", "evaluated_on", DATASET)
    with cli.client() as client:
        targets = {r.target for r in client.assets.relations(
            "evaluation:fraud/holdout-2024q2", direction="out").items}
    assert targets == {version, DATASET}

    removed = cli("link", "--remove", "evaluation:fraud/holdout-2024q2", "evaluated_on", DATASET)
    assert "removed" in removed.stdout
    again = cli("link", "--remove", "evaluation:fraud/holdout-2024q2", "evaluated_on", DATASET,
                code=1)
    assert "does not exist" in _one_line_error(again.stderr)
    wrong = cli("link", DATASET, "serves", version, code=1)
    assert "serves" in _one_line_error(wrong.stderr)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "nonsense"], "has no kind"),
        (["show", "model:fraud/nope"], "does not exist"),
        (["history", "gadget:fraud/x"], "unknown kind"),
        (["ls", "--kind", "gadget", "--json"], "unknown kind"),
        (["ls", "--cursor", "!!!"], "cursor"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(cli: Cli, args: list[str], expected: str) -> None:
    result = cli(*args, code=1)
    assert expected in _one_line_error(result.stderr)
    assert result.stdout == ""


def test_demo_then_list_every_version(local_cli: Cli) -> None:
    result = local_cli("demo")
    assert "model_version" in result.stdout
    listed = _json(local_cli("ls", "--kind", "model_version", "--json", "--all").stdout)
    assert len(listed["items"]) >= 120 and listed["next_cursor"] is None
    skipped = local_cli("demo", "--if-empty")
    assert "nothing seeded" in skipped.stdout
    again = _json(local_cli("ls", "--kind", "model_version", "--json", "--all").stdout)
    assert len(again["items"]) == len(listed["items"])


@pytest.mark.parametrize(
    ("database_url_value", "expected"),
    [("mysql://db/registry", "unsupported database"), ("not a url", "Could not parse")],
)
def test_a_bad_database_url_is_a_one_line_error(
    tmp_path: Path, database_url_value: str, expected: str
) -> None:
    env = _env(tmp_path / "home", database_url_value, None)
    for args in (["init"], ["ls"], ["demo"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 1, result.output
        line = _one_line_error(result.stderr)
        assert expected in line and "MODELATLAS_DATABASE_URL" in line
