"""``Registry.badges``: a results page's badges (deprecated, needs revalidation, verified
attestation, lineage completeness) in a fixed number of queries, agreeing with the one-asset
answers (``attestations``, ``provenance_report``, ``revalidation_marks``), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from modelatlas.errors import InvalidInput
from modelatlas.governance import Principal
from modelatlas.integrity.manifest import hash_artifact
from modelatlas.registry import AssetUpdate, InlineAsset, Registry, RunSpec, VersionRegistration

ENV = "environment:fraud/serving@1"
V1, V2 = "model_version:fraud/churn@1", "model_version:fraud/churn@2"


def _world(registry: Registry, tmp_path: Path) -> None:
    """churn@1: complete lineage, attested, in production in an environment that then
    upgrades numpy (so it needs revalidation); churn@2: no run, deprecated."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    registry.register_version("fraud", "churn", VersionRegistration(
        run=RunSpec(metadata={"seeds": {"numpy": 7}}),
        datasets=[InlineAsset(ref="dataset:fraud/txns@1")],
        code=InlineAsset(ref="code:fraud/train@abc1234", metadata={"commit": "abc1234"}),
        environment=InlineAsset(ref=ENV, metadata={"packages": ["numpy==1.26.4"]}),
        state="production", manifest=hash_artifact(artifact).to_statement()))
    registry.register_version("fraud", "churn", VersionRegistration())
    env = registry.get_asset(ENV)
    registry.update_asset(ENV, AssetUpdate(metadata={"packages": ["numpy==2.1.0"]}),
                          expected_revision=env.revision)
    registry.deprecate(V2, {"sunset": "2099-01-01", "reason": "use @1", "replacement": V1})


@contextmanager
def statements(registry: Registry) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = registry.db.reader
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_badges_agree_with_the_one_asset_answers(registry: Registry, tmp_path: Path) -> None:
    _world(registry, tmp_path)
    found = registry.badges([V1, V2, "model:fraud/churn", "dataset:fraud/missing@1"])
    assert set(found) == {V1, V2, "model:fraud/churn"}  # a missing asset is left out
    one, two = found[V1], found[V2]
    assert (one.state, one.deprecated, one.sunset_at) == ("production", False, None)
    assert one.revalidation == [m.cause for m in registry.revalidation_marks(V1).items] == [ENV]
    assert one.attestation == registry.attestations(V1).status == "verified"
    assert one.lineage_complete is registry.provenance_report(V1).complete is True
    assert two.deprecated and two.sunset_at is not None and two.sunset_at.startswith("2099-01-01")
    assert (two.revalidation, two.attestation) == ([], "none")
    assert two.lineage_complete is registry.provenance_report(V2).complete is False
    model = found["model:fraud/churn"]
    assert (model.deprecated, model.attestation, model.lineage_complete) == (False, "none", None)


def test_badges_cost_the_same_queries_for_any_number_of_rows(
        registry: Registry, tmp_path: Path) -> None:
    _world(registry, tmp_path)
    with statements(registry) as few:
        registry.badges([V1])
    many_refs = [V1, V2, "model:fraud/churn", ENV, "dataset:fraud/txns@1"]
    with statements(registry) as many:
        registry.badges(many_refs)
    assert len(many) == len(few) <= 7, many


def test_badges_leave_out_what_the_caller_may_not_read(
        registry: Registry, tmp_path: Path) -> None:
    _world(registry, tmp_path)
    stranger = Principal(kind="user", person="mallory")
    assert registry.badges([V1, V2], principal=stranger) == {}
    with pytest.raises(InvalidInput, match="at most 200"):
        registry.badges([V1] * 201)
