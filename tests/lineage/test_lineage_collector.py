"""A lineage walk pauses the cyclic garbage collector while it builds its answer
(modelatlas/collector.py) and leaves it as it found it: on after the walk, also when the walk
fails, off if the program had turned it off, and on only once every overlapping pause has
ended."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from lineage_world import HOLDOUT

from modelatlas.collector import collector_paused
from modelatlas.errors import NotFound
from modelatlas.registry import LineageQuery, Registry

QUERY = LineageQuery(direction="both", depth=5)


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector on for the test, and on again after it whatever the test did."""
    gc.enable()
    yield
    gc.enable()


@pytest.mark.usefixtures("collector")
def test_a_walk_leaves_the_collector_on(world: Registry) -> None:
    graph = world.lineage(HOLDOUT, QUERY)
    assert len(graph.nodes) > 1
    assert gc.isenabled()
    with pytest.raises(NotFound):
        world.lineage("dataset:ml/missing@1", QUERY)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_walk_leaves_a_collector_turned_off_off(world: Registry) -> None:
    gc.disable()
    world.lineage(HOLDOUT, QUERY)
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_overlapping_pauses_resume_with_the_last() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)  # another walk still runs: the collector stays off
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
