"""``modelatlas lineage`` against a local registry and, over HTTP, a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from lineage_world import CHURN1, CHURN2, CLEAN, DEPLOY, EVAL, RAW, TRAIN2, build

from cli_harness import TRANSPORTS, Cli, one_line_error
from modelatlas.registry import Registry
from worlds import Worlds


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def story(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One lineage story per backend for the module: these tests only read it."""
    with world_cache.shared(request.param, build) as registry:
        yield registry


@pytest.fixture(scope="module", params=TRANSPORTS)
def lineage(request: pytest.FixtureRequest, story: Registry,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """``modelatlas lineage`` over the story, in-process and over HTTP (one server per
    backend for the module, not one per test)."""
    home = tmp_path_factory.mktemp("lineage-cli")
    with Cli(home, story.settings.database_url).over(request.param) as cli:
        yield cli.sub("lineage")


def test_show_draws_a_tree(lineage: Cli) -> None:
    out = lineage("show", RAW, "--depth", "10").stdout
    assert "downstream (what depends on it)" in out
    assert f"{DEPLOY} [serves] (pending)" in out
    assert f"{CLEAN} [derived_from] (active)" in out
    up = lineage("show", CHURN2, "--upstream", "--depth", "1").stdout
    assert "upstream (what shaped it)" in up and f"{TRAIN2} [produced]" in up
    assert "downstream" not in up


def test_show_filters_and_json(lineage: Cli) -> None:
    data = json.loads(lineage("show", RAW, "--depth", "10", "--kind", "model_version",
                              "--json").stdout)
    assert [n["ref"] for n in data["nodes"]] == [RAW, CHURN1, CHURN2]
    capped = json.loads(lineage("show", RAW, "--limit", "2", "--json").stdout)
    assert capped["truncated"] and len(capped["nodes"]) == 2
    derived = json.loads(lineage("show", RAW, "--relation", "derived_from", "--both",
                                 "--json").stdout)
    assert derived["query"]["direction"] == "both" and derived["query"]["relations"] == [
        "derived_from"]
    assert "more assets" in lineage("show", RAW, "--limit", "2").stdout


def test_paths_and_blast_radius(lineage: Cli) -> None:
    out = lineage("paths", RAW, DEPLOY, "--depth", "4").stdout
    assert (f"1. {RAW} <-derived_from- {CLEAN} <-used- {TRAIN2} -produced-> {CHURN2} "
            f"<-serves- {DEPLOY}") in out
    assert "no path" in lineage("paths", DEPLOY, "dataset:ml/holdout@1").stdout
    blast = lineage("blast-radius", CLEAN, "--limit", "3").stdout
    assert "7 assets within 10 hops downstream of dataset:ml/clean@1" in blast
    assert CHURN1 in blast and "--cursor" in blast
    page = json.loads(lineage("blast-radius", CLEAN, "--json").stdout)
    assert [i["ref"] for i in page["items"]] == [CHURN1, CHURN2, EVAL, DEPLOY]


def test_neighbours_page_one_side(lineage: Cli) -> None:
    out = lineage("neighbours", CLEAN, "--limit", "2").stdout
    assert f"3 assets directly downstream of {CLEAN}" in out and "--cursor" in out
    up = lineage("neighbours", CLEAN, "--upstream").stdout
    assert RAW in up and "derived_from" in up and "--cursor" not in up
    page = json.loads(lineage("neighbours", CLEAN, "--kind", "run", "--json").stdout)
    assert page["kind"] == "run" and {i["kind"] for i in page["items"]} == {"run"}


@pytest.mark.parametrize(("args", "message"), [
    (("show", RAW, "--relation", "fed"), "unknown relation 'fed'"),
    (("show", RAW, "--depth", "0"), "depth"),
    (("show", RAW, "--as-of", "soon"), "as_of"),
    (("show", "dataset:ml/nope@1"), "does not exist"),
    (("blast-radius", CLEAN, "--cursor", "###"), "cursor"),
    (("neighbours", CLEAN, "--kind", "spaceship"), "spaceship"),
])
def test_errors_are_one_line(lineage: Cli, args: tuple[str, ...], message: str) -> None:
    assert message in one_line_error(lineage(*args, code=1).stderr)


def test_one_direction_only(lineage: Cli) -> None:
    assert "one of --upstream" in lineage("show", RAW, "--upstream", "--both", code=2).stderr
