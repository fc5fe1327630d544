"""What the model and version pages show, computed from service answers: the metric
comparison of versions, and each declared requirement beside the dependency check's
verdict. Pure functions over wire types, so the templates only lay things out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from packaging.utils import canonicalize_name

from modelatlas.registry import Asset, CheckResult, ModelRequirements, OriginOut, ViolationOut

# Metric names where a smaller value is better (errors, losses, latencies, harms); every
# other metric is taken as higher-is-better. A name is matched by its words, so
# "val_rmse" and "latency_p95_ms" count, "precision" does not.
_LOWER_IS_BETTER = ("loss", "error", "err", "rmse", "mse", "mae", "mape", "smape", "latency",
                    "ms", "seconds", "perplexity", "brier", "wer", "cer", "fpr", "fnr",
                    "toxicity", "bias", "drift", "cost")

STAGE_BADGES = {"production": "ok", "staging": "info", "deprecated": "warn",
                "archived": "muted", "registered": "muted", "withdrawn": "bad"}


def lower_is_better(metric: str) -> bool:
    words = metric.lower().replace("-", "_").replace(".", "_").split("_")
    return any(word in _LOWER_IS_BETTER for word in words)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class MetricRow:
    name: str
    lower_is_better: bool
    values: list[float | None]
    best: frozenset[int]  # the columns holding the best value (ties: all of them)


@dataclass(frozen=True)
class MetricTable:
    versions: list[Asset]
    rows: list[MetricRow]


def metric_table(versions: Sequence[Asset]) -> MetricTable:
    """Each metric (in the order versions first report them) across ``versions``; the best
    value per metric is marked only when at least two versions report it."""
    names: dict[str, None] = {}
    for version in versions:
        names.update(dict.fromkeys(_metrics(version)))
    rows = []
    for name in names:
        values = [_number(_metrics(v).get(name)) for v in versions]
        present = [(i, v) for i, v in enumerate(values) if v is not None]
        lower = lower_is_better(name)
        best: frozenset[int] = frozenset()
        if len(present) >= 2:
            target = (min if lower else max)(v for _, v in present)
            best = frozenset(i for i, v in present if v == target)
        rows.append(MetricRow(name, lower, values, best))
    return MetricTable(list(versions), rows)


def _metrics(asset: Asset) -> dict[str, Any]:
    metrics = asset.metadata.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


Verdict = Literal["ok", "bad", "unknown"]


@dataclass(frozen=True)
class RequirementRow:
    """One declared requirement and what the check said of it."""

    what: str  # Python, package, image, accelerator, CUDA, asset
    requirement: str
    origin: OriginOut | None
    verdict: Verdict
    messages: list[str] = field(default_factory=list)


def requirement_rows(declared: ModelRequirements,
                     check: CheckResult | None) -> list[RequirementRow]:
    """Every declared requirement, satisfied (``ok``) or not (``bad``, with why) by the
    check's target; ``unknown`` when nothing was checked. A violation the declarations do
    not explain (none should) is a row of its own, so none is hidden."""
    pending = list(check.violations) if check is not None else []

    def row(what: str, text: str, subject: str, origin: OriginOut | None = None,
            kinds: tuple[str, ...] = ()) -> RequirementRow:
        found = [v for v in pending if v.subject == subject and (not kinds or v.kind in kinds)]
        for v in found:
            pending.remove(v)
        verdict: Verdict = "unknown" if check is None else ("bad" if found else "ok")
        return RequirementRow(what, text, origin, verdict, [v.message for v in found])

    rows = []
    if declared.python:
        rows.append(row("Python", declared.python, "python", declared.python_origin))
    rows += [row("package", p.requirement, str(canonicalize_name(p.name)), p.origin,
                 ("package_missing", "package_version")) for p in declared.packages]
    for what, value in (("image", declared.image), ("accelerator", declared.accelerator),
                        ("cuda", declared.cuda)):
        if value:
            rows.append(row(what, str(value), what))
    rows += [row("asset", a.requirement, a.ref, a.origin, ("asset",)) for a in declared.assets]
    rows += [_unexplained(v) for v in pending]
    return rows


def _unexplained(violation: ViolationOut) -> RequirementRow:
    return RequirementRow(violation.kind, violation.subject, violation.origin, "bad",
                          [violation.message])
