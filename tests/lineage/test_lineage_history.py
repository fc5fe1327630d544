"""The graph as it was: as-of walks over relation_history, on both backends."""

from __future__ import annotations

import time

import pytest
from alembic import command
from lineage_world import create, link

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.lineage import parse_as_of
from modelatlas.registry import Registry
from modelatlas.store.migrate import alembic_config, upgrade

RAW, CLEAN, LATE = "dataset:ml/raw@1", "dataset:ml/clean@1", "dataset:ml/late@1"


def moment(registry: Registry) -> str:
    """A time strictly between the writes before and after it."""
    time.sleep(0.01)
    now = registry.now()
    time.sleep(0.01)
    return now


def downstream(registry: Registry, as_of: str | None) -> set[str]:
    graph = registry.lineage(RAW, {"depth": 5, "as_of": as_of})
    return {n.ref for n in graph.nodes} - {RAW}


def story(registry: Registry) -> dict[str, str]:
    """raw <- clean linked, removed, linked again; late derived from raw at the end."""
    times = {}
    create(registry, RAW)
    create(registry, CLEAN)
    times["created"] = moment(registry)
    link(registry, CLEAN, "derived_from", RAW)
    times["linked"] = moment(registry)
    registry.remove_relation(CLEAN, "derived_from", RAW)
    times["removed"] = moment(registry)
    link(registry, CLEAN, "derived_from", RAW)
    times["relinked"] = moment(registry)
    create(registry, LATE)
    link(registry, LATE, "derived_from", RAW)
    return times


def test_as_of_sees_adds_and_removes(registry: Registry) -> None:
    times = story(registry)
    assert downstream(registry, times["created"]) == set()
    assert downstream(registry, times["linked"]) == {CLEAN}
    assert downstream(registry, times["removed"]) == set()
    assert downstream(registry, times["relinked"]) == {CLEAN}
    assert downstream(registry, None) == {CLEAN, LATE}
    graph = registry.lineage(RAW, {"as_of": times["linked"], "direction": "both"})
    assert [(e.source, e.relation, e.target) for e in graph.edges] == [
        (CLEAN, "derived_from", RAW)]


def test_as_of_before_the_root_existed_is_not_found(registry: Registry) -> None:
    before = moment(registry)
    create(registry, RAW)
    with pytest.raises(NotFound) as raised:
        registry.lineage(RAW, {"as_of": before})
    assert [e.path for e in raised.value.errors] == ["/as_of"]


def test_history_is_backfilled_from_the_event_log(registry: Registry) -> None:
    times = story(registry)
    cfg = alembic_config()
    with registry.db.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")  # drops relation_history and its triggers
    upgrade(registry.db)  # rebuilds it from relations and the relation events
    assert downstream(registry, times["linked"]) == {CLEAN}
    assert downstream(registry, times["removed"]) == set()
    assert downstream(registry, times["relinked"]) == {CLEAN}
    assert downstream(registry, None) == {CLEAN, LATE}


@pytest.mark.parametrize(("text", "stored"), [
    ("2026-03-01", "2026-03-01T00:00:00.000000Z"),
    ("2026-03-01T12:30:00Z", "2026-03-01T12:30:00.000000Z"),
    ("2026-03-01T14:30:00+02:00", "2026-03-01T12:30:00.000000Z"),
    ("2026-03-01T12:30:00.5", "2026-03-01T12:30:00.500000Z"),
])
def test_as_of_times_are_read_as_utc(text: str, stored: str) -> None:
    assert parse_as_of(text) == stored


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "0001-01-01T00:00:00+01:00"])
def test_bad_as_of_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_as_of(text)
    assert [e.path for e in raised.value.errors] == ["/as_of"]
