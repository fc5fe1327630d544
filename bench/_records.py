"""What the benchmarks share: records for bulk_load built without re-validation (it
validates each as create_asset does), and the percentile rule of the shared MLflow script."""

from __future__ import annotations

from typing import Any

from modelatlas.registry.types import AssetCreate, RelationCreate


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
