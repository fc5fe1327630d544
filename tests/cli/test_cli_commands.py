"""Each command through CliRunner against a temporary MODELATLAS_HOME on both backends,
once in-process (local registry) and once over HTTP against a real server: tables for
people, JSON for programs, one-line errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from cli_harness import Cli, one_line_error

DATASET = "dataset:finance/transactions@3"


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
    reg = json.loads(result.stdout)
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
    reg = json.loads(result.stdout)
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
    assert expected in one_line_error(result.stderr)


def test_bad_flags_are_usage_errors(local_cli: Cli) -> None:
    for flag in (["--metric", "auc"], ["--metric", "auc=high"], ["--seed", "numpy=0.5"]):
        result = local_cli("register", "fraud/m", *flag, code=2)
        assert "Traceback" not in result.output
    result = local_cli("register", "fraud/m", "--artifact", "s3://bucket/model.bin", code=1)
    assert "not a local file" in one_line_error(result.stderr)


def test_show_ls_and_history(cli: Cli) -> None:
    cli("register", "risk/credit-default-pd", "--metric", "auc=0.81", "--tag", "ifrs9")
    cli("register", "risk/credit-default-pd", "--metric", "auc=0.83")
    ref = "model_version:risk/credit-default-pd@2"

    table = cli("show", ref).stdout
    assert ref in table and "auc" in table and "version_of" in table
    shown = json.loads(cli("show", ref, "--json").stdout)
    assert shown["ref"] == ref and shown["metadata"]["metrics"] == {"auc": 0.83}

    listing = cli("ls", "--kind", "model_version").stdout
    assert "model_version:risk/credit-default-pd@1" in listing and ref in listing
    first = json.loads(cli("ls", "--kind", "model_version", "--limit", "1", "--json").stdout)
    assert [a["ref"] for a in first["items"]] == ["model_version:risk/credit-default-pd@1"]
    assert first["next_cursor"]
    rest = json.loads(cli("ls", "--kind", "model_version", "--cursor", first["next_cursor"],
                          "--json").stdout)
    assert [a["ref"] for a in rest["items"]] == [ref] and rest["next_cursor"] is None
    tagged = json.loads(cli("ls", "--tag", "ifrs9", "--json").stdout)
    assert [a["ref"] for a in tagged["items"]] == ["model_version:risk/credit-default-pd@1"]
    everything = json.loads(cli("ls", "--all", "--limit", "2", "--json").stdout)
    # the model and its two versions (no inputs, so no runs), over two pages of two
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None

    events = json.loads(cli("history", ref, "--json").stdout)
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
    edge = json.loads(linked.stdout)
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
    assert "does not exist" in one_line_error(again.stderr)
    wrong = cli("link", DATASET, "serves", version, code=1)
    assert "serves" in one_line_error(wrong.stderr)


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
    assert expected in one_line_error(result.stderr)
    assert result.stdout == ""


def test_demo_then_list_every_version(local_cli: Cli) -> None:
    result = local_cli("demo")
    assert "model_version" in result.stdout
    listed = json.loads(local_cli("ls", "--kind", "model_version", "--json", "--all").stdout)
    assert len(listed["items"]) >= 120 and listed["next_cursor"] is None
    skipped = local_cli("demo", "--if-empty")
    assert "nothing seeded" in skipped.stdout
    again = json.loads(local_cli("ls", "--kind", "model_version", "--json", "--all").stdout)
    assert len(again["items"]) == len(listed["items"])


@pytest.mark.parametrize(
    ("database_url_value", "expected"),
    [("mysql://db/registry", "unsupported database"), ("not a url", "Could not parse")],
)
def test_a_bad_database_url_is_a_one_line_error(
    tmp_path: Path, database_url_value: str, expected: str
) -> None:
    cli = Cli(tmp_path / "home", database_url_value)
    for args in (["init"], ["ls"], ["demo"]):
        result = cli(*args, code=1)
        line = one_line_error(result.stderr)
        assert expected in line and "MODELATLAS_DATABASE_URL" in line
