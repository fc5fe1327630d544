"""``modelatlas provenance``, ``modelatlas prov export`` and ``modelatlas metrics
provenance`` through CliRunner, on the local registry and over HTTP, both backends."""

from __future__ import annotations

import json
from pathlib import Path

from provenance_world import build_small_registry

from cli_harness import Cli
from modelatlas.lineage.prov import asset_refs, read_prov


def _arrange(cli: Cli) -> dict[str, str]:
    with cli.registry() as registry:
        return build_small_registry(registry)


def test_report_tree_and_missing_list(cli: Cli) -> None:
    refs = _arrange(cli)
    out = cli("provenance", refs["fraud1"]).stdout
    assert "run:fraud/churn-v1" in out and "alice" in out
    assert "dataset:fraud/transactions@1" in out and "evaluation:fraud/churn1-eval" in out
    assert "lineage complete" in out
    gaps = cli("provenance", refs["fraud3"]).stdout
    assert "INCOMPLETE" in gaps and "run.seeds" in gaps and "missing:" in gaps
    data = json.loads(cli("provenance", refs["fraud4"], "--json").stdout)
    assert data["complete"] is False and data["missing"][0]["step"] == "run"
    bad = cli("provenance", "dataset:fraud/transactions@1", code=1)
    assert "model_version" in bad.stderr


def test_export_to_stdout_and_file(cli: Cli, tmp_path: Path) -> None:
    refs = _arrange(cli)
    text = cli("prov", "export", refs["risk1"], "--format", "turtle").stdout
    assert refs["risk1"] in asset_refs(read_prov(text, "turtle"))
    target = tmp_path / "risk.json"
    cli("prov", "export", refs["risk1"], "-o", str(target), "--direction", "upstream")
    assert "run:risk/score-v1" in asset_refs(read_prov(target.read_text(), "json"))
    assert "/format" in cli("prov", "export", refs["risk1"], "--format", "xml", code=1).stderr


def test_metrics_table_and_json(cli: Cli) -> None:
    _arrange(cli)
    table = cli("metrics", "provenance").stdout
    assert "fraud" in table and "risk" in table and "50.0% (2)" in table
    data = json.loads(cli("metrics", "provenance", "--namespace", "risk", "--json").stdout)
    assert [t["namespace"] for t in data["teams"]] == ["risk"]
    assert data["total"]["validation_coverage"] == 0.5
