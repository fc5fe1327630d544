"""Reading `feast registry-dump` output (data/feast_registry_dump.json: saved from Feast
0.67 over a repository with a FileSource, an entity, a feature view and an on-demand view
that reads it and a request source) into views, sources and entities, and the digests
that decide whether a re-import is a new version."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.integrations.feast import (
    asset_name,
    dtype_name,
    parse_registry_dump,
    read_registry_dump,
)

SAVED = Path(__file__).parent / "data" / "feast_registry_dump.json"


@pytest.fixture(scope="module")
def dump() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAVED.read_text())
    return loaded


def test_views_sources_and_entities(dump: dict[str, Any]) -> None:
    repo = parse_registry_dump(dump)
    assert repo.project == "fraud_demo" and not repo.notes
    assert set(repo.entities) == {"card"}  # Feast's __dummy entity left out
    assert repo.entities["card"].join_key == "card_id"
    stats, ratio = sorted(repo.views, key=lambda v: v.view_type)
    assert (stats.name, stats.view_type, stats.ttl_seconds, stats.online) == (
        "card_stats", "feature_view", 86400, True)
    assert [(f.name, f.dtype) for f in stats.features] == [("txn_count_1h", "int64"),
                                                          ("amount_sum_1h", "float32")]
    assert stats.source is not None and stats.source.is_dataset
    assert (stats.source.location, stats.source.file_format) == ("data/card_stats.parquet",
                                                                 "parquet")
    assert (ratio.name, ratio.inputs, ratio.entities) == (
        "amount_vs_hourly", ("amount_request", "card_stats"), ())
    assert ratio.transformation is not None and "def amount_vs_hourly" in ratio.transformation
    assert not repo.sources["amount_request"].is_dataset  # a request carries no stored data


def test_bookkeeping_does_not_change_a_digest(dump: dict[str, Any]) -> None:
    """`feast apply` stamps new times on every object: the same definition all the same."""
    before = {v.name: v.digest for v in parse_registry_dump(dump).views}
    stamped = json.loads(json.dumps(dump).replace("2026-11-27T00:04", "2027-01-01T09:00"))
    assert stamped != dump
    assert {v.name: v.digest for v in parse_registry_dump(stamped).views} == before


@pytest.mark.parametrize("change", ["dtype", "feature", "ttl", "source"])
def test_a_changed_definition_changes_the_digest(dump: dict[str, Any], change: str) -> None:
    changed = copy.deepcopy(dump)
    spec = changed["featureViews"][0]["spec"]
    if change == "dtype":
        spec["features"][1]["valueType"] = "DOUBLE"
    elif change == "feature":
        spec["features"].append({"name": "merchant_count_1h", "valueType": "INT64"})
    elif change == "ttl":
        spec["ttl"] = "3600s"
    else:
        spec["batchSource"]["fileOptions"]["uri"] = "s3://features/card_stats.parquet"
    old = parse_registry_dump(dump).views
    new = parse_registry_dump(changed).views
    assert [v.digest for v in old if v.name == "card_stats"] != \
        [v.digest for v in new if v.name == "card_stats"]


def test_dtypes_and_names() -> None:
    assert [dtype_name(t) for t in ("FLOAT", "DOUBLE", "INT64", "STRING_LIST", "UUID")] == [
        "float32", "float64", "int64", "list<string>", "uuid"]
    assert asset_name("card stats/v2") == "card-stats-v2"


@pytest.mark.parametrize("text", ["[]", '{"project": "x"}', "not json"])
def test_not_a_dump_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="feast registry-dump"):
        read_registry_dump(text)


def test_a_view_without_a_name_is_a_note(dump: dict[str, Any]) -> None:
    broken = copy.deepcopy(dump)
    broken["featureViews"].append({"spec": {}})
    assert parse_registry_dump(broken).notes == ["featureViews[1] skipped: it has no spec.name"]
