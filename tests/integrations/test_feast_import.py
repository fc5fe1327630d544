"""Feast import against a real Feast (from PyPI, in its own venv: `make test` builds
.venv-feast and sets MODELATLAS_TEST_FEAST_PYTHON). One feature repository per module,
built and `feast apply`'d twice by data/feast_world.py (Feast is slow to start, so the
backends share it): the first definition's registry dump, then a changed one (a feature's
type widened, a feature added) read back with ModelAtlas's own `feast registry-dump` runner.

The tests after the real-Feast story read the dump saved in data/ (no Feast needed)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tool_venvs import interpreter

from cli_harness import Cli
from modelatlas.client import Client
from modelatlas.errors import InvalidInput
from modelatlas.integrations.feast import FeastUnavailable, run_registry_dump
from modelatlas.registry import AssetCreate, Registry
from modelatlas.registry.types import VersionRegistration

DATA = Path(__file__).parent / "data"
WORLD = DATA / "feast_world.py"
SAVED = DATA / "feast_registry_dump.json"
FEATURE = "feature:fraud/card_stats"


def _python() -> str:
    return interpreter("MODELATLAS_TEST_FEAST_PYTHON", ".venv-feast")


# one xdist worker runs the whole module, so `feast apply` (tens of seconds) runs once a run
pytestmark = pytest.mark.xdist_group("feast")


@dataclass(frozen=True)
class Dumps:
    base: dict[str, Any]
    changed: dict[str, Any]


def _step(python: str, repo: Path, step: str) -> None:
    done = subprocess.run([python, str(WORLD), str(repo), step], capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    python = _python()
    repo = tmp_path_factory.mktemp("feast")
    _step(python, repo, "base")
    base = json.loads((repo / "dump-base.json").read_text())
    _step(python, repo, "changed")
    # the runner `modelatlas import feast --repo` uses, on the real `feast` command
    changed = json.loads(run_registry_dump(repo, feast=str(Path(python).parent / "feast")))
    return Dumps(base, changed)


def _production_user(registry: Registry) -> str:
    """A deployed model version that takes any card_stats version from 1 on."""
    made = registry.register_version("fraud", "card-model", VersionRegistration(
        state="production", requirements={"assets": [f"{FEATURE}>=1"]}))
    return made.model_version.ref


def test_import_reimport_and_a_changed_definition(registry: Registry, dumps: Dumps) -> None:
    first = registry.import_feast({"dump": dumps.base, "namespace": "fraud"})
    assert first.project == "fraud_features" and first.feature_views == 1
    assert [(c.ref, c.outcome) for c in first.changes] == [
        ("dataset:fraud/card_activity@1", "created"), ("schema:fraud/card_stats@1", "created"),
        (f"{FEATURE}@1", "created")]
    feature = registry.get_asset(f"{FEATURE}@1")
    assert feature.metadata["features"] == [{"name": "txn_count_1h", "dtype": "int64"},
                                            {"name": "amount_sum_1h", "dtype": "float32"}]
    assert feature.metadata["entities"] == ["card"] and feature.metadata["ttl_seconds"] == 86400
    assert feature.metadata["source"] == "dataset:fraud/card_activity@1"
    assert feature.owners == ["risk@acme.test"] and feature.tags == ["team=fraud"]
    assert feature.custom["feast"]["entities"][0]["join_key"] == "card_id"
    schema = registry.get_asset("schema:fraud/card_stats@1")
    assert [f["name"] for f in schema.metadata["fields"]] == [
        "card_id", "txn_count_1h", "amount_sum_1h"]

    again = registry.import_feast({"dump": dumps.base, "namespace": "fraud"})
    assert (again.created, again.new_versions, again.unchanged, again.changes) == (0, 0, 3, [])

    user = _production_user(registry)
    third = registry.import_feast({"dump": dumps.changed, "namespace": "fraud"})
    assert [(c.ref, c.outcome) for c in third.changes] == [
        ("schema:fraud/card_stats@2", "new_version"), (f"{FEATURE}@2", "new_version")]
    detail = third.changes[1].detail
    assert "+merchant_count_1h int64" in detail and "amount_sum_1h float32 -> float64" in detail
    assert third.unchanged == 1  # the data source
    edges = {(r.relation, r.target) for r in registry.relations(f"{FEATURE}@2",
                                                                direction="out").items}
    assert edges == {("derived_from", "dataset:fraud/card_activity@1"),
                     ("conforms_to", "schema:fraud/card_stats@2")}
    # the dependency machinery marked the deployed version that picks the new one up
    assert f"{user} <- {FEATURE}@2" in third.revalidation
    marks = registry.revalidation_marks(user).items
    assert f"{FEATURE}@2" in {m.cause for m in marks}


def test_cli_reads_a_dump_file_and_a_repo(local_cli: Cli, dumps: Dumps, tmp_path: Path) -> None:
    file = tmp_path / "dump.json"
    file.write_text(json.dumps(dumps.base))
    made = json.loads(local_cli("import", "feast", str(file), "--namespace", "fraud",
                                "--json").stdout)
    assert made["created"] == 3 and made["namespace"] == "fraud"
    again = local_cli("import", "feast", str(file), "--namespace", "fraud")
    assert "created 0, new versions 0, unchanged 3 (nothing new)" in again.stdout


# the saved dump: no Feast needed ------------------------------------------------------
def _saved() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAVED.read_text())
    return loaded


def test_the_sdk_and_the_route(client: Client) -> None:
    """An on-demand view reads a view and a request: linked to the view's version."""
    report = client.integrations.import_feast(_saved(), namespace="fraud")
    assert {c.ref for c in report.changes} == {
        "dataset:fraud/card_stats_source@1", "schema:fraud/card_stats@1",
        "feature:fraud/card_stats@1", "schema:fraud/amount_vs_hourly@1",
        "feature:fraud/amount_vs_hourly@1"}
    edges = {(r.relation, r.target) for r in client.assets.relations(
        "feature:fraud/amount_vs_hourly@1", direction="out").items}
    assert ("derived_from", "feature:fraud/card_stats@1") in edges
    with pytest.raises(InvalidInput, match="feast registry-dump"):
        client.integrations.import_feast({"something": "else"}, namespace="fraud")


def test_a_series_made_by_hand_is_not_taken_over(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="feature:fraud/card_stats@1"))
    report = registry.import_feast({"dump": _saved(), "namespace": "fraud"})
    assert "feature:fraud/card_stats@1" not in {c.ref for c in report.changes}
    assert any("feature:fraud/card_stats@1 exists and was not imported" in n
               for n in report.notes)
    assert registry.get_asset("feature:fraud/card_stats@1").custom == {}


def test_cli_errors(local_cli: Cli, tmp_path: Path) -> None:
    refused = local_cli("import", "feast", "--repo", str(tmp_path), "--namespace", "fraud",
                        code=1)
    assert "no feature_store.yaml" in refused.stderr
    both = local_cli("import", "feast", "x.json", "--repo", str(tmp_path), "--namespace",
                     "fraud", code=1)
    assert "name one source" in both.stderr
    (tmp_path / "feature_store.yaml").write_text("project: x\n")
    with pytest.raises(FeastUnavailable, match="not found"):
        run_registry_dump(tmp_path, feast="no-such-feast-command")
