"""The CI/CD commands: ``modelatlas policy check`` (pass, fail, usage error), its JSON, the
same over HTTP, and ``modelatlas import catalog``'s exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

from cli_harness import Cli
from modelatlas.client import ArtifactsAPI
from modelatlas.registry import AssetCreate

DATA = Path(__file__).parent / "data"


def _arrange(cli: Cli, tmp_path: Path) -> None:
    """fraud/churn@1 complete and signed, fraud/churn@2 with no lineage and no artifact."""
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    with cli.registry() as registry:
        registry.create_asset(AssetCreate(ref="environment:ops/py311@1", metadata={
            "python": "3.11", "packages": ["numpy==1.26.4"]}))
        registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    # a manifest with the artifact's in-toto Statement: the registry signs it on registration
    registration = tmp_path / "registration.json"
    registration.write_text(json.dumps({
        "datasets": ["dataset:fraud/txns@1"], "run": {"metadata": {"seeds": {"numpy": 1}}},
        "manifest": ArtifactsAPI.manifest(weights)}))
    cli("register", "fraud/churn", "--manifest", str(registration), "--json")
    cli("register", "fraud/churn")


def _checks(stdout: str) -> dict[str, str]:
    return {c["name"]: c["status"] for c in json.loads(stdout)["checks"]}


def test_policy_check_exit_codes_and_json(local_cli: Cli, tmp_path: Path) -> None:
    _arrange(local_cli, tmp_path)
    policy = local_cli.sub("policy", "check")
    good = policy("model_version:fraud/churn@1", "--environment", "environment:ops/py311@1",
                  "--json")
    assert _checks(good.stdout) == {"dependencies": "pass", "lineage": "pass",
                                    "signature": "pass", "revalidation": "pass"}
    bad = policy("model_version:fraud/churn@2", "--json", code=1)
    result = json.loads(bad.stdout)
    assert result["passed"] is False
    assert _checks(bad.stdout) == {"dependencies": "skip", "lineage": "fail",
                                   "signature": "fail", "revalidation": "pass"}
    table = policy("model_version:fraud/churn@2", code=1).stdout
    assert "lineage" in table and "fail" in table
    assert "unsigned" in table
    policy("model:fraud/churn", code=2)  # not a version: usage
    policy("model_version:fraud/nothing@1", code=2)  # unknown: the check could not run
    policy("model_version:fraud/churn@1", "--environment", "environment:ops/gone@1", code=2)
    policy(code=2)  # no ref: Typer's usage error


def test_register_with_one_artifact_is_signed(local_cli: Cli, tmp_path: Path) -> None:
    """`register --artifact FILE` records the file's manifest, so the version's digest is
    its root digest and the registry signs its provenance: the pipeline's signature check
    passes with no --manifest file."""
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    out = json.loads(local_cli("register", "fraud/solo", "--artifact", str(weights),
                               "--json").stdout)
    assert out["model_version"]["digests"]["sha256"] == ArtifactsAPI.manifest(weights)[
        "subject"][0]["digest"]["sha256"]
    checks = local_cli("policy", "check", "model_version:fraud/solo@1", "--json", code=1)
    assert _checks(checks.stdout)["signature"] == "pass"


def test_policy_check_and_catalog_over_http(local_cli: Cli, tmp_path: Path) -> None:
    _arrange(local_cli, tmp_path)
    with local_cli.over("http") as http:
        bad = http("policy", "check", "model_version:fraud/churn@2", "--json", code=1)
        assert _checks(bad.stdout)["lineage"] == "fail"
        out = http("import", "catalog", str(DATA / "datahub_export.json"), "--json", code=1)
        assert len(json.loads(out.stdout)["missing"]) == 3


def test_import_catalog_exit_codes(local_cli: Cli, tmp_path: Path) -> None:
    imports = local_cli.sub("import", "catalog")
    export = str(DATA / "marquez_datasets.json")
    found = imports(export, "--json", code=1)
    assert {d["ref"].split("/")[1] for d in json.loads(found.stdout)["missing"]} == {
        "shop.public.orders@live", "shop.public.customers@live", "shop.public.refunds@live"}
    synced = imports(export, "--sync", code=1)  # differences were found (and written)
    assert "synced" in synced.stdout
    clean = imports(export, code=0)
    assert "in sync: 3 marquez dataset(s)" in clean.stdout
    imports(export, "--format", "datahub", code=2)  # an object is no DataHub export
    imports(export, "--format", "csv", code=2)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "cannot read" in imports(str(broken), code=2).stderr
