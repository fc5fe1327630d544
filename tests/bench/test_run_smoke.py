"""bench/run.py end to end at a tiny scale, HTTP server included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_bench_runs_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    other = "\n### Search, 10 model versions (2026-01-01)\n\nanother benchmark's section\n"
    (results / "README.md").write_text("# Benchmark results\n\nan older table\n" + other)
    command = [sys.executable, str(BENCH / "run.py"), "--scale", "300", "--work-dir",
               str(tmp_path / "work"), "--results-dir", str(results), "--samples", "50",
               "--http-samples", "20"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads((results / "registry-300.json").read_text())
    assert result["bulk_load"]["assets"] > 300 and not result["bulk_load"]["reused"]
    assert result["http"]["register_version"]["n"] == 20
    assert set(result["verdicts"].values()) <= {"PASS", "MISS"}
    readme = (results / "README.md").read_text()
    assert "| 300 |" in readme and "an older table" not in readme
    assert readme.endswith(other)  # the other benchmarks' sections are kept
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0 and "built earlier" in again.stdout
