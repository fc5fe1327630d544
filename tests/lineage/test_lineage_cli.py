"""``modelatlas lineage`` against a local registry and, over HTTP, a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from lineage_world import CHURN1, CHURN2, CLEAN, DEPLOY, EVAL, RAW, TRAIN2, build
from typer.testing import CliRunner

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.cli import app
from modelatlas.config import Settings
from modelatlas.registry import Registry


class Cli:
    def __init__(self, env: dict[str, str | None]) -> None:
        self.env = env

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(app, ["lineage", *args], env=self.env)
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result


@pytest.fixture(params=["local", "http"])
def cli(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Cli]:
    settings = Settings(home=tmp_path, database_url=database_url, actor="tester")
    registry = Registry.open(settings)
    try:
        build(registry)
        env: dict[str, str | None] = {
            "MODELATLAS_HOME": str(tmp_path), "MODELATLAS_DATABASE_URL": database_url,
            "MODELATLAS_URL": None, "COLUMNS": "200"}
        if request.param == "local":
            yield Cli(env)
            return
        with running_server(create_app(settings, registry)) as url:
            yield Cli({**env, "MODELATLAS_URL": url})
    finally:
        registry.close()


def test_show_draws_a_tree(cli: Cli) -> None:
    out = cli("show", RAW, "--depth", "10").stdout
    assert "downstream (what depends on it)" in out
    assert f"{DEPLOY} [serves] (pending)" in out
    assert f"{CLEAN} [derived_from] (active)" in out
    up = cli("show", CHURN2, "--upstream", "--depth", "1").stdout
    assert "upstream (what shaped it)" in up and f"{TRAIN2} [produced]" in up
    assert "downstream" not in up


def test_show_filters_and_json(cli: Cli) -> None:
    data = json.loads(cli("show", RAW, "--depth", "10", "--kind", "model_version",
                          "--json").stdout)
    assert [n["ref"] for n in data["nodes"]] == [RAW, CHURN1, CHURN2]
    capped = json.loads(cli("show", RAW, "--limit", "2", "--json").stdout)
    assert capped["truncated"] and len(capped["nodes"]) == 2
    derived = json.loads(cli("show", RAW, "--relation", "derived_from", "--both",
                             "--json").stdout)
    assert derived["query"]["direction"] == "both" and derived["query"]["relations"] == [
        "derived_from"]
    assert "more assets" in cli("show", RAW, "--limit", "2").stdout


def test_paths_and_blast_radius(cli: Cli) -> None:
    out = cli("paths", RAW, DEPLOY, "--depth", "4").stdout
    assert (f"1. {RAW} <-derived_from- {CLEAN} <-used- {TRAIN2} -produced-> {CHURN2} "
            f"<-serves- {DEPLOY}") in out
    assert "no path" in cli("paths", DEPLOY, "dataset:ml/holdout@1").stdout
    blast = cli("blast-radius", CLEAN, "--limit", "3").stdout
    assert "7 assets within 10 hops downstream of dataset:ml/clean@1" in blast
    assert CHURN1 in blast and "--cursor" in blast
    page = json.loads(cli("blast-radius", CLEAN, "--json").stdout)
    assert [i["ref"] for i in page["items"]] == [CHURN1, CHURN2, EVAL, DEPLOY]


@pytest.mark.parametrize(("args", "message"), [
    (("show", RAW, "--relation", "fed"), "unknown relation 'fed'"),
    (("show", RAW, "--depth", "0"), "depth"),
    (("show", RAW, "--as-of", "soon"), "as_of"),
    (("show", "dataset:ml/nope@1"), "does not exist"),
    (("blast-radius", CLEAN, "--cursor", "###"), "cursor"),
])
def test_errors_are_one_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args, code=1)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_one_direction_only(cli: Cli) -> None:
    assert "one of --upstream" in cli("show", RAW, "--upstream", "--both", code=2).stderr
