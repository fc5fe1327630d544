"""Fixtures of the lineage tests: the story of :mod:`lineage_world` in the test registry,
and ``modelatlas lineage`` over it."""

from __future__ import annotations

import pytest
from lineage_world import build

from cli_harness import Cli
from modelatlas.registry import Registry


@pytest.fixture
def world(registry: Registry) -> Registry:
    """The registry holding the lineage story (a test module may override it)."""
    build(registry)
    return registry


@pytest.fixture
def lineage(cli: Cli, world: Registry) -> Cli:
    """``modelatlas lineage`` over ``world``'s database, in-process and over HTTP."""
    return cli.sub("lineage")
