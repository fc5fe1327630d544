"""``modelatlas deps impact`` and ``modelatlas deps revalidation`` through CliRunner, on the
local registry and over HTTP, both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deps_impact_world import SCHEMA, SERVING, build

from cli_harness import Cli
from modelatlas.registry import AssetUpdate, Registry


@pytest.fixture
def world(registry: Registry) -> Registry:
    """The impact story in this test's own registry, which the server or CLI here opens
    too (so not the copy tests/deps/conftest.py gives)."""
    build(registry)
    return registry


def test_package_upgrade_lists_what_breaks_and_exits_one(cli: Cli, world: Registry) -> None:
    out = cli("deps", "impact", "--environment", SERVING, "--package", "numpy",
              "--to", "2.1.0", code=1).stdout
    assert f"numpy 1.26.4 -> 2.1.0 in {SERVING}" in out
    assert "model_version:fraud/churn@1" in out and "deployment:fraud/churn-api" in out
    assert "numpy 2.1.0 does not satisfy <2 (fraud/churn@1, requirements.txt:3)" in out
    fine = json.loads(cli("deps", "impact", "--environment", SERVING, "--package", "pandas",
                          "--to", "2.2.3", "--json").stdout)
    assert fine["model_versions"] == [] and fine["deployments"] == []


def test_proposed_schema_and_revalidation_marks(cli: Cli, world: Registry,
                                                tmp_path: Path) -> None:
    fields = tmp_path / "fields.yaml"
    fields.write_text("fields:\n  - {name: id, type: long, nullable: false}\n")
    out = cli("deps", "impact", "--schema", SCHEMA, "--fields", str(fields),
              "--mode", "full", code=1).stdout
    assert "NOT compatible (FULL)" in out and "model_version:fraud/risk@1" in out
    assert json.loads(cli("deps", "revalidation", "--json").stdout)["items"] == []
    world.update_asset(SERVING, AssetUpdate(metadata={"packages": ["numpy==2.1.0"]}),
                       expected_revision=1)
    marks = json.loads(cli("deps", "revalidation", "model_version:fraud/churn@1",
                           "--json").stdout)["items"]
    assert [(m["ref"], m["cause"]) for m in marks] == [("model_version:fraud/churn@1", SERVING)]
    assert "fraud/churn@1" in cli("deps", "revalidation").stdout
    bad = cli("deps", "impact", "--environment", SERVING, "--package", "numpy", code=1)
    assert "/to" in bad.stderr or "/to" in bad.stdout
