"""``modelatlas deps show|set|check|resolve|why`` through CliRunner, on the local registry
and over HTTP against a real server, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_harness import Cli, one_line_error

CHURN = "model_version:fraud/churn@1"
SCORE = "model_version:risk/score@1"
ENV = "environment:platform/serving-py311"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text("# serving\nnumpy>=1.24,<2\npandas>=2\n")
    (tmp_path / "score.txt").write_text("numpy>=2\n")
    (tmp_path / "index.txt").write_text(
        "numpy 1.26.4\nnumpy 2.1.0\npandas 2.2.2 numpy>=1.23.2\n"
    )
    (tmp_path / "freeze.txt").write_text("numpy==2.1.0\npandas==2.2.2\n")
    return tmp_path


def _arrange(cli: Cli) -> None:
    with cli.client() as client:
        client.assets.create(ENV, metadata={"python": "3.11.7",
                                            "packages": ["numpy==1.26.4", "pandas==2.2.2"]})
        client.models.register_version("fraud", "churn")
        client.models.register_version("risk", "score")


def test_set_then_show_with_origins(cli: Cli, files: Path) -> None:
    _arrange(cli)
    out = cli("deps", "set", CHURN, "--from", str(files / "requirements.txt")).stdout
    assert out.strip() == f"set 2 packages and 0 assets on {CHURN}"
    table = cli("deps", "show", CHURN).stdout
    assert "numpy<2,>=1.24" in table and "requirements.txt:2" in table
    shown = json.loads(cli("deps", "show", CHURN, "--json").stdout)
    assert [p["origin"]["line"] for p in shown["packages"]] == [2, 3]


def test_check_exits_one_when_incompatible(cli: Cli, files: Path) -> None:
    _arrange(cli)
    cli("deps", "set", CHURN, "--from", str(files / "requirements.txt"))
    ok = cli("deps", "check", CHURN, "--target", ENV)
    assert f"{CHURN} is compatible with {ENV}" in ok.stdout
    bad = cli("deps", "check", CHURN, "--freeze", str(files / "freeze.txt"),
              "--python", "3.11.7", code=1)
    expected = "numpy 2.1.0 does not satisfy <2,>=1.24 (fraud/churn@1, requirements.txt:2)"
    assert expected in bad.stdout
    answer = json.loads(cli("deps", "check", CHURN, "--freeze", str(files / "freeze.txt"),
                            "--json", code=1).stdout)
    assert answer["compatible"] is False and answer["violations"][0]["origin"]["line"] == 2
    cli("deps", "check", CHURN, code=2)  # neither --target nor --freeze: a usage error


def test_resolve_prints_the_conflict_and_exits_one(cli: Cli, files: Path) -> None:
    _arrange(cli)
    cli("deps", "set", CHURN, "--from", str(files / "requirements.txt"))
    cli("deps", "set", SCORE, "--from", str(files / "score.txt"))
    index = str(files / "index.txt")
    clash = cli("deps", "resolve", CHURN, SCORE, "--index", index, "--python", "3.11", code=1)
    assert "numpy: numpy<2,>=1.24 (fraud/churn@1, requirements.txt:2) conflicts with " \
           "numpy>=2 (risk/score@1, score.txt:1)" in clash.stdout
    pins = json.loads(cli("deps", "resolve", CHURN, "--index", index, "--json").stdout)
    assert pins["ok"] and pins["pins"] == {"numpy": "1.26.4", "pandas": "2.2.2"}
    table = cli("deps", "resolve", CHURN, "--index", index).stdout
    assert "1.26.4" in table and "required by" in table


def test_why_shows_declaration_and_chain(cli: Cli, files: Path) -> None:
    _arrange(cli)
    cli("deps", "set", CHURN, "--from", str(files / "requirements.txt"))
    out = cli("deps", "why", CHURN, "numpy", "--index", str(files / "index.txt")).stdout
    assert "declared numpy<2,>=1.24 at requirements.txt:2" in out
    assert "through pandas>=2 (fraud/churn@1, requirements.txt:3) -> numpy>=1.23.2 " \
           "(required by pandas 2.2.2, index.txt:3" in out
    none = cli("deps", "why", CHURN, "torch").stdout
    assert "does not need torch" in none


def test_errors_are_one_line(cli: Cli, files: Path) -> None:
    _arrange(cli)
    (files / "bad.txt").write_text("numpy>=1\nnumpy>>2\n")
    bad = cli("deps", "set", CHURN, "--from", str(files / "bad.txt"), code=1)
    assert "bad.txt:2" in one_line_error(bad.stderr)
    missing = cli("deps", "show", "model_version:fraud/nope@1", code=1)
    assert "does not exist" in missing.stderr


def test_register_reads_requirements_on_the_client(cli: Cli, files: Path) -> None:
    out = cli("register", "fraud/churn", "--requirements", str(files / "requirements.txt"))
    assert out.stdout.strip() == CHURN
    shown = json.loads(cli("deps", "show", CHURN, "--json").stdout)
    assert [(p["name"], p["origin"]["line"]) for p in shown["packages"]] == [
        ("numpy", 2), ("pandas", 3)]
    found = cli("search", "requires:pkg:numpy<2", "--json").stdout
    assert [item["ref"] for item in json.loads(found)["items"]] == [CHURN]
    assert json.loads(cli("search", "requires:pkg:numpy>=2", "--json").stdout)["items"] == []
