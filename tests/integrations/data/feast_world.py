"""A tiny Feast feature repository, built and applied with Feast's own CLI; run by
tests/integrations/test_feast_import.py with the Feast venv's python (Feast, pandas and
pyarrow live there, not in ModelAtlas's venv).

    python feast_world.py REPO base      # Parquet file, repo, `feast apply`, dump
    python feast_world.py REPO changed   # a changed feature view, `feast apply`

``base`` writes what `feast registry-dump` printed to REPO/dump-base.json. Feast's click
CLI runs in this one process (its import costs most of the time)."""

from __future__ import annotations

import contextlib
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

STORE = """project: fraud_features
provider: local
registry: data/registry.db
online_store:
  type: sqlite
  path: data/online.db
offline_store:
  type: file
entity_key_serialization_version: 3
"""

FEATURES = """from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float32, Float64, Int64

card = Entity(name="card", join_keys=["card_id"], value_type=ValueType.INT64,
              description="a payment card")
card_activity = FileSource(name="card_activity", path="data/card_activity.parquet",
                           timestamp_field="event_timestamp")
card_stats = FeatureView(
    name="card_stats", entities=[card], ttl=timedelta(days=1), online=True,
    source=card_activity, owner="risk@acme.test", description="hourly card activity",
    tags={"team": "fraud"},
    schema=[FIELDS],
)
"""
BASE = ('Field(name="txn_count_1h", dtype=Int64), '
        'Field(name="amount_sum_1h", dtype=Float32)')
# a type widened and a feature added: a new definition of the same view
CHANGED = ('Field(name="txn_count_1h", dtype=Int64), '
           'Field(name="amount_sum_1h", dtype=Float64), '
           'Field(name="merchant_count_1h", dtype=Int64)')


def _feast(*args: str) -> str:
    from feast.cli.cli import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main(args=list(args), standalone_mode=False)
    return out.getvalue()


def base(repo: Path) -> None:
    import pandas as pd

    (repo / "data").mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(STORE)
    (repo / "features.py").write_text(FEATURES.replace("FIELDS", BASE))
    when = datetime(2024, 1, 1, tzinfo=UTC)
    pd.DataFrame({"card_id": [1, 2], "event_timestamp": [when, when],
                  "txn_count_1h": [3, 4], "amount_sum_1h": [10.5, 20.0],
                  "merchant_count_1h": [1, 2]}).to_parquet(repo / "data" /
                                                           "card_activity.parquet")
    _feast("apply")
    (repo / "dump-base.json").write_text(_feast("registry-dump"))


def changed(repo: Path) -> None:
    (repo / "features.py").write_text(FEATURES.replace("FIELDS", CHANGED))
    _feast("apply")


if __name__ == "__main__":
    where, step = Path(sys.argv[1]).resolve(), sys.argv[2]
    with contextlib.chdir(where):  # Feast finds feature_store.yaml in the working folder
        {"base": base, "changed": changed}[step](where)
