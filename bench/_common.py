"""What the benchmarks share: records for bulk_load built without re-validation (it
validates each as create_asset does), the registry a benchmark builds once and reuses, and
the percentile rule of the shared MLflow script, and how every benchmark saves its figures."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelatlas.config import Settings
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate, RelationCreate


def open_registry(home: Path) -> Registry:
    url = f"sqlite:///{home / 'registry.db'}"
    return Registry.open(Settings(home=home, database_url=url, actor="bench"))


def built_once(home: Path, load: Callable[[Registry], dict[str, Any]], *,
               rebuild: bool) -> tuple[Path, dict[str, Any]]:
    """The registry in ``home``, loaded by ``load`` the first time (or again with
    ``rebuild``), and the figures ``load`` returned then (``reused`` says which)."""
    marker = home / "load.json"
    if marker.exists() and not rebuild:
        return home, {**json.loads(marker.read_text()), "reused": True}
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    registry = open_registry(home)
    try:
        figures = load(registry)
    finally:
        registry.close()
    marker.write_text(json.dumps(figures, indent=2))
    return home, {**figures, "reused": False}


def asset(ref: str, **fields: Any) -> AssetCreate:
    base: dict[str, Any] = {"ref": ref, "description": "", "owners": [], "tags": [],
                            "metadata": {}, "custom": {}, "state": None, "digests": {}}
    return AssetCreate.model_construct(**{**base, **fields})


def relation(source: str, name: str, target: str) -> RelationCreate:
    return RelationCreate.model_construct(source=source, relation=name, target=target,
                                          properties={})


def pct(values: list[float], p: float) -> float:
    """Linear interpolation, as the shared script computes its p95."""
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def save_results(results_dir: Path, name: str, result: dict[str, Any], section: str, *,
                 readme: bool = True) -> None:
    """Write ``result`` to ``results_dir/name`` (JSON) and, with ``readme``, append
    ``section`` (the benchmark's Markdown table) to ``results_dir/README.md``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / name).write_text(json.dumps(result, indent=2) + "\n")
    if readme:
        with (results_dir / "README.md").open("a") as out:
            out.write("\n" + section)
