"""The provenance report of a model version: raw data -> features -> training run (code
commit, environment, parameters, seeds) -> evaluations -> deployments, who and when at
each step, and what is missing from the chain.

It reads the model version's neighbourhood in at most four indexed queries (the version,
its own edges, the edges of its runs, evaluations and features, the sources of the
features its runs used), however large the registry: no walk.

Where the facts live (docs/provenance.md): a run's ``metadata.parameters``,
``metadata.seeds``, ``metadata.user``, ``started_at``/``ended_at``; a code asset's
``metadata.commit`` and ``repository``; an environment's digest. The run is linked to
data and code by ``used`` (or ``associated_with`` for code and environments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection, Row

from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.refs import Ref
from modelatlas.store.tables import assets, relations

__all__ = [
    "CodeStep", "DataStep", "DeploymentStep", "EnvironmentStep", "EvaluationStep", "Missing",
    "ProvenanceReport", "RunStep", "Step", "current_version", "provenance_report",
]

Area = Literal["lineage", "validation", "advice"]


class Step(BaseModel):
    """One asset in the chain, with who made it and when."""

    ref: str
    kind: str
    state: str
    who: str
    when: str


class DataStep(Step):
    """A dataset or feature version. ``current`` (datasets): it is the newest active
    version of its dataset. ``via``: the feature through which raw data was reached."""

    current: bool | None = None
    via: str | None = None


class CodeStep(Step):
    repository: str | None = None
    commit: str | None = None
    path: str | None = None


class EnvironmentStep(Step):
    digest: str | None = None
    python: str | None = None
    image: str | None = None


class RunStep(Step):
    status: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    seeds: dict[str, Any] = Field(default_factory=dict)
    code: list[CodeStep] = Field(default_factory=list)
    environments: list[EnvironmentStep] = Field(default_factory=list)
    data: list[str] = Field(default_factory=list, description="datasets and features used")


class EvaluationStep(Step):
    passed: bool | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    slices: list[str] = Field(default_factory=list)
    fairness_failed: list[str] = Field(default_factory=list)
    drifted: list[str] = Field(default_factory=list)
    datasets: list[DataStep] = Field(default_factory=list)
    on_current_data: bool = False


class DeploymentStep(Step):
    environment: str | None = None
    target: str | None = None
    endpoint: str | None = None


class Missing(BaseModel):
    """A gap. ``area``: ``lineage`` gaps make the version's lineage incomplete,
    ``validation`` gaps leave it unvalidated, ``advice`` gaps are worth filling."""

    step: str
    area: Area
    message: str


class ProvenanceReport(BaseModel):
    model_version: Step
    model: str | None = None
    raw_data: list[DataStep] = Field(default_factory=list)
    features: list[DataStep] = Field(default_factory=list)
    runs: list[RunStep] = Field(default_factory=list)
    evaluations: list[EvaluationStep] = Field(default_factory=list)
    deployments: list[DeploymentStep] = Field(default_factory=list)
    derived_from: list[str] = Field(default_factory=list)
    missing: list[Missing] = Field(default_factory=list)
    complete: bool = Field(description="data -> run -> model with code commit, environment "
                                       "and seeds")
    validated: bool = Field(description="an evaluation on the current dataset version")
    completeness: float = Field(description="share of the lineage checks that pass")


# queries --------------------------------------------------------------------------------

def _ref_of(row: Any) -> str:
    base = f"{row.kind}:{row.namespace}/{row.name}"
    return f"{base}@{row.version}" if row.version else base


def current_version(asset: Any = assets) -> sa.ColumnElement[bool]:
    """True for the newest active version of its series (by registration order): no
    active version of the same kind, namespace and name was registered after it. An
    index range on the (kind, namespace, name, version) key."""
    newer = assets.alias("newer")
    return sa.and_(
        asset.c.state == "active",
        ~sa.exists().where(
            newer.c.kind == asset.c.kind, newer.c.namespace == asset.c.namespace,
            newer.c.name == asset.c.name, newer.c.id > asset.c.id, newer.c.state == "active",
        ),
    )


_COLUMNS = (assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version,
            assets.c.state, assets.c.meta, assets.c.digests, assets.c.created_at,
            assets.c.created_by)


def _edges_statement(*, incoming: bool) -> sa.Select[Any]:
    near = relations.c.target_id if incoming else relations.c.source_id
    far = relations.c.source_id if incoming else relations.c.target_id
    return (
        sa.select(near.label("near_id"), relations.c.relation, *_COLUMNS,
                  current_version().label("current"))
        .select_from(relations.join(assets, assets.c.id == far))
        .where(near.in_(sa.bindparam("ids", expanding=True)),
               relations.c.relation.in_(sa.bindparam("rels", expanding=True)))
        .order_by(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
    )


# Built once: building these (aliases, column proxies) costs more than running them.
_INCOMING = _edges_statement(incoming=True)
_OUTGOING = _edges_statement(incoming=False)
_VERSION = sa.select(*_COLUMNS).where(
    assets.c.kind == "model_version", assets.c.namespace == sa.bindparam("namespace"),
    assets.c.name == sa.bindparam("name"), assets.c.version == sa.bindparam("version"),
)


def _edges(conn: Connection, ids: Sequence[int], rels: Sequence[str],
           *, incoming: bool) -> list[Row[Any]]:
    """Edges touching ``ids`` (as target when ``incoming``, else as source), each with the
    asset at the other end and whether that asset is its series' current version."""
    stmt = _INCOMING if incoming else _OUTGOING
    return list(conn.execute(stmt, {"ids": list(ids), "rels": list(rels)}))


@dataclass
class _Hood:
    """The rows around one model version."""

    version: Any  # the version's row
    around: list[Row[Any]] = field(default_factory=list)  # the version's own edges
    below: list[Row[Any]] = field(default_factory=list)  # edges of its runs/evals/features

    def of(self, rows: list[Row[Any]], relation: str, kind: str | None = None,
           near: int | None = None) -> list[Row[Any]]:
        return [r for r in rows if r.relation == relation and (kind is None or r.kind == kind)
                and (near is None or r.near_id == near)]


def _load(conn: Connection, ref: Ref) -> _Hood:
    if ref.kind != "model_version":
        raise InvalidInput.at("/ref", f"a provenance report is for a model_version, not a "
                                      f"{ref.kind}")
    version = conn.execute(_VERSION, {"namespace": ref.namespace, "name": ref.name,
                                      "version": ref.version or ""}).first()
    if version is None:
        raise NotFound(f"{ref} does not exist", errors=[FieldError("/ref", "no such asset")])
    hood = _Hood(version)
    hood.around = (_edges(conn, [version.id], ("produced", "evaluated", "serves"),
                          incoming=True)
                   + _edges(conn, [version.id], ("requires", "version_of", "derived_from"),
                            incoming=False))
    expand = [r.id for r in hood.around if r.kind in ("run", "evaluation", "feature")]
    if expand:
        hood.below = _edges(conn, expand, ("used", "associated_with", "evaluated_on",
                                           "derived_from"), incoming=False)
    run_features = [r.id for r in hood.below if r.kind == "feature" and r.relation == "used"
                    and r.id not in expand]
    if run_features:
        hood.below += _edges(conn, run_features, ("derived_from",), incoming=False)
    return hood


# assembly -------------------------------------------------------------------------------

def _step(row: Any) -> dict[str, Any]:
    return {"ref": _ref_of(row), "kind": row.kind, "state": row.state,
            "who": row.created_by, "when": row.created_at}


def _data(row: Any, via: str | None = None) -> DataStep:
    current = bool(row.current) if row.kind == "dataset" else None
    return DataStep(**_step(row), current=current, via=via)


def _run(row: Any, hood: _Hood) -> RunStep:
    meta: dict[str, Any] = row.meta or {}
    links = [r for r in hood.below if r.near_id == row.id
             and r.relation in ("used", "associated_with")]
    code = [CodeStep(**_step(r), repository=r.meta.get("repository"),
                     commit=r.meta.get("commit"), path=r.meta.get("path"))
            for r in links if r.kind == "code"]
    envs = [EnvironmentStep(**_step(r), digest=(r.digests or {}).get("sha256"),
                            python=r.meta.get("python"), image=r.meta.get("image"))
            for r in links if r.kind == "environment"]
    step = _step(row)
    step["who"] = meta.get("user") or row.created_by  # who ran it, when the run says
    step["when"] = meta.get("started_at") or row.created_at
    return RunStep(
        **step, status=meta.get("status"), started_at=meta.get("started_at"),
        ended_at=meta.get("ended_at"), parameters=meta.get("parameters") or {},
        seeds=meta.get("seeds") or {}, code=_unique(code), environments=_unique(envs),
        data=sorted({_ref_of(r) for r in links if r.kind in ("dataset", "feature")}),
    )


def _evaluation(row: Any, hood: _Hood) -> EvaluationStep:
    meta: dict[str, Any] = row.meta or {}
    datasets = _unique([_data(r) for r in hood.of(hood.below, "evaluated_on", near=row.id)])
    return EvaluationStep(
        **_step(row), passed=meta.get("passed"), metrics=meta.get("metrics") or {},
        slices=[s["name"] for s in meta.get("slices", [])],
        fairness_failed=[f["check"] for f in meta.get("fairness", []) if not f["passed"]],
        drifted=[d["feature"] for d in meta.get("drift", []) if d["drifted"]],
        datasets=datasets, on_current_data=any(d.current for d in datasets),
    )


def _deployment(row: Any) -> DeploymentStep:
    meta: dict[str, Any] = row.meta or {}
    return DeploymentStep(**_step(row), environment=meta.get("environment"),
                          target=meta.get("target"), endpoint=meta.get("endpoint"))


def _unique(steps: list[Any]) -> list[Any]:
    seen: dict[tuple[str, str | None], Any] = {}
    for step in steps:  # the same dataset reached directly and through a feature: both
        seen.setdefault((step.ref, getattr(step, "via", None)), step)
    return list(seen.values())


def _inputs(hood: _Hood) -> tuple[list[DataStep], list[DataStep]]:
    """Features (used by a run or required by the version) and raw data (datasets a run
    used, and the datasets those features were derived from)."""
    run_ids = {r.id for r in hood.of(hood.around, "produced", "run")}
    used = [r for r in hood.below if r.relation == "used" and r.near_id in run_ids]
    feature_rows = ([r for r in used if r.kind == "feature"]
                    + hood.of(hood.around, "requires", "feature"))
    features = _unique([_data(r) for r in feature_rows])
    raw = [_data(r) for r in used if r.kind == "dataset"]
    by_id = {r.id: _ref_of(r) for r in feature_rows}
    raw += [_data(r, via=by_id[r.near_id]) for r in hood.below
            if r.relation == "derived_from" and r.kind == "dataset" and r.near_id in by_id]
    return _unique(raw), features


def provenance_report(conn: Connection, ref: Ref) -> ProvenanceReport:
    """The report of model version ``ref`` (NotFound if it does not exist)."""
    hood = _load(conn, ref)
    runs = [_run(r, hood) for r in hood.of(hood.around, "produced", "run")]
    evaluations = [_evaluation(r, hood) for r in hood.of(hood.around, "evaluated")]
    raw, features = _inputs(hood)
    gaps, score = _run_gaps(runs)
    gaps += _validation_gaps(evaluations)
    gaps += [Missing(step="features", area="advice",
                     message=f"{f.ref}: no source dataset recorded (derived_from)")
             for f in features if not any(d.via == f.ref for d in raw)]
    model = hood.of(hood.around, "version_of")
    return ProvenanceReport(
        model_version=Step(**_step(hood.version)),
        model=_ref_of(model[0]) if model else None,
        raw_data=raw, features=features, runs=runs, evaluations=evaluations,
        deployments=_unique([_deployment(r) for r in hood.of(hood.around, "serves")]),
        derived_from=[_ref_of(r) for r in hood.of(hood.around, "derived_from")],
        missing=gaps, complete=not any(g.area == "lineage" for g in gaps),
        validated=any(e.on_current_data for e in evaluations), completeness=score,
    )


LINEAGE_CHECKS = ("run", "data", "code", "commit", "environment", "seeds")


def _one_run_gaps(run: RunStep) -> list[Missing]:
    gaps: list[Missing] = []

    def gap(step: str, message: str, area: Area = "lineage") -> None:
        gaps.append(Missing(step=step, area=area, message=f"{run.ref}: {message}"))

    if not run.data:
        gap("data", "used no dataset or feature")
    if not run.code:
        gap("run.code", "no code recorded (used or associated_with a code asset)")
    elif not any(c.commit for c in run.code):
        gap("run.code.commit", "its code has no commit (code metadata.commit)")
    if not run.environments:
        gap("run.environment", "no environment recorded")
    if not run.seeds:
        gap("run.seeds", "no random seeds recorded (run metadata.seeds)")
    if not run.parameters:
        gap("run.parameters", "no parameters recorded (run metadata.parameters)", "advice")
    return gaps


def _run_gaps(runs: list[RunStep]) -> tuple[list[Missing], float]:
    """The gaps of the most complete run (a version is complete when one of its runs is),
    and the share of :data:`LINEAGE_CHECKS` that pass."""
    if not runs:
        message = "no run produced this version: its data, code, environment and seeds " \
                  "are unknown"
        return [Missing(step="run", area="lineage", message=message)], 0.0
    best = min((_one_run_gaps(run) for run in runs),
               key=lambda gaps: sum(g.area == "lineage" for g in gaps))
    failed = sum(g.area == "lineage" for g in best)
    if any(g.step == "run.code" for g in best):
        failed += 1  # no code: no commit either
    checks = len(LINEAGE_CHECKS)
    return best, round((checks - failed) / checks, 4)


def _validation_gaps(evaluations: list[EvaluationStep]) -> list[Missing]:
    if not evaluations:
        return [Missing(step="evaluation", area="validation",
                        message="no evaluation of this version")]
    if any(e.on_current_data for e in evaluations):
        return []
    used = sorted({d.ref for e in evaluations for d in e.datasets})
    if not used:
        return [Missing(step="evaluation.data", area="validation",
                        message="no evaluation names the dataset it ran on (evaluated_on)")]
    return [Missing(step="evaluation.current_data", area="validation",
                    message=f"evaluated on {', '.join(used)}, none of which is the current "
                            "version of its dataset")]
