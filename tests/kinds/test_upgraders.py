"""The upgrader chain: every stored schema version of every kind reads as the current one."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from modelatlas.kinds import SPECS, KindSpec, Metadata, read_metadata, validate_metadata

SHA = hashlib.sha256(b"x").hexdigest()


def test_dataset_v1_reads_as_v2() -> None:
    old = {"rows": 7, "sha256": SHA, "format": "parquet"}
    new = read_metadata("dataset", old, 1)
    assert new == {"row_count": 7, "digest": f"sha256:{SHA}", "format": "parquet"}
    assert old == {"rows": 7, "sha256": SHA, "format": "parquet"}, "input left untouched"
    assert validate_metadata("dataset", new)["row_count"] == 7


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({}, {}),
        ({"rows": 0}, {"row_count": 0}),
        ({"sha256": None}, {}),
        ({"sha256": SHA}, {"digest": f"sha256:{SHA}"}),
    ],
)
def test_dataset_v1_edge_cases(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert read_metadata("dataset", old, 1) == new


def test_current_records_pass_through_unchanged() -> None:
    current = {"row_count": 7, "digest": f"sha256:{SHA}"}
    assert read_metadata("dataset", current, 2) == current
    assert read_metadata("model", {"task": "x"}, 1) == {"task": "x"}


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_every_kind_can_read_every_older_version(kind: str) -> None:
    spec = SPECS[kind]
    missing = [n for n in range(1, spec.schema_version) if n not in spec.upgraders]
    assert not missing, f"{kind}: add upgraders for schema versions {missing}"
    for written_under in range(1, spec.schema_version + 1):
        assert isinstance(spec.upgrade({}, written_under), dict)


class _Three(Metadata):
    c: int = 0


def test_upgraders_apply_in_order_from_the_written_version() -> None:
    spec = KindSpec(
        "model", _Three, schema_version=3,
        upgraders={
            1: lambda d: {"b": d.pop("a") + 1, **d},
            2: lambda d: {"c": d.pop("b") * 10, **d},
        },
    )
    assert spec.upgrade({"a": 1}, 1) == {"c": 20}
    assert spec.upgrade({"b": 1}, 2) == {"c": 10}
    assert spec.upgrade({"c": 5}, 3) == {"c": 5}
