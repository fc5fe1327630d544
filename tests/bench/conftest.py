"""The benchmark tools live in bench/ (scripts, not a package): make them importable."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
