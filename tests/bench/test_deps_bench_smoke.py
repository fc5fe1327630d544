"""bench/deps_bench.py end to end at a tiny scale: it builds, times every operation, and
its answers are the generated organisation's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_deps_bench_runs_and_saves_its_figures(tmp_path: Path) -> None:
    import deps_bench

    results = tmp_path / "results"
    assert deps_bench.main(["--scale", "300", "--reps", "3", "--work-dir", str(tmp_path),
                            "--results-dir", str(results)]) == 0
    saved = json.loads((results / "deps-300.json").read_text())
    timings = saved["timings"]
    assert saved["load"]["requirements"] > 300 * 25  # ~30 packages and python per version
    # every version caps numpy one way or another; some reject 2.1.0, the rest admit it
    affected = timings["impact_numpy_2_registry"]["result_max"]
    assert 0 < affected < 300
    assert timings["impact_numpy_2_environment"]["result_max"] <= affected
    assert timings["resolve_ten_versions"]["result_min"] > 50  # pins for every package
    assert all(v.startswith(("PASS", "MISS")) for v in saved["targets"].values())
    assert "### Dependencies, 300 model versions" in (results / "README.md").read_text()
