"""Provenance metrics per team (namespace), computed by the database in one aggregate.

* **lineage completeness**: the share of model versions produced by a run that used data
  (a dataset or feature), ran with code that has a commit and with an environment, and
  recorded its random seeds: the same definition as ``ProvenanceReport.complete``.
* **validation coverage**: the share of model versions with an evaluation on the current
  version of a dataset (:func:`modelatlas.lineage.report.current_version`), the same as
  ``ProvenanceReport.validated``.

Each version's facts are correlated ``EXISTS`` probes on the relation indexes; the sums
per namespace happen in SQL, so nothing but one row per team reaches Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from modelatlas.lineage.report import current_version
from modelatlas.store.tables import assets, relations

__all__ = [
    "ProvenanceFigures",
    "ProvenanceMetrics",
    "TeamProvenance",
    "complete_versions",
    "provenance_metrics",
]

_RUN_LINKS = ("used", "associated_with")


class ProvenanceFigures(BaseModel):
    model_versions: int = 0
    complete: int = Field(default=0, description="versions whose lineage is complete")
    lineage_completeness: float = Field(default=0.0, description="complete / model_versions")
    validated: int = Field(default=0, description="versions evaluated on current data")
    validation_coverage: float = Field(default=0.0, description="validated / model_versions")
    with_run: int = 0
    with_data: int = 0
    with_code_commit: int = 0
    with_environment: int = 0
    with_seeds: int = 0


class TeamProvenance(ProvenanceFigures):
    namespace: str


class ProvenanceMetrics(BaseModel):
    namespace: str | None = Field(default=None, description="the one team asked about")
    total: ProvenanceFigures
    teams: list[TeamProvenance]


def _linked(run_id: Any, kinds: tuple[str, ...], *, commit: bool = False) -> Any:
    """The run links (used or associated_with) an asset of ``kinds``."""
    link, to = relations.alias(), assets.alias()
    where = [link.c.source_id == run_id, link.c.relation.in_(_RUN_LINKS), to.c.kind.in_(kinds)]
    if commit:
        where.append(to.c.meta["commit"].as_string().is_not(None))
    return sa.exists(sa.select(1).select_from(link.join(to, to.c.id == link.c.target_id))
                     .where(*where))


def _seeded(run: Any) -> Any:
    # JSON_EXTRACT on SQLite and ->> on PostgreSQL both render an empty object as '{}'
    seeds = run.c.meta["seeds"].as_string()
    return sa.and_(seeds.is_not(None), seeds != "{}")


def _produced_by_run(version_id: Any) -> tuple[Any, Any]:
    """A probe "a run produced the version (and the extra conditions hold for it)", and
    the run alias those conditions name."""
    link, run = relations.alias(), assets.alias()

    def probe(*extra: Any) -> Any:
        return sa.exists(
            sa.select(1).select_from(link.join(run, run.c.id == link.c.source_id))
            .where(link.c.target_id == version_id, link.c.relation == "produced",
                   run.c.kind == "run", *extra)
        )

    return probe, run


def _complete(mv: Any) -> Any:
    """The version's lineage is complete (a run that used data, code with a commit, an
    environment and seeds produced it)."""
    probe, run = _produced_by_run(mv.c.id)
    return probe(_linked(run.c.id, ("dataset", "feature")),
                 _linked(run.c.id, ("code",), commit=True),
                 _linked(run.c.id, ("environment",)), _seeded(run))


def complete_versions(conn: Connection, version_ids: list[int]) -> set[int]:
    """Which of ``version_ids`` have complete lineage, by the definition the figures count:
    one query for the lot (a results page's badges)."""
    if not version_ids:
        return set()
    mv = assets.alias("mv")
    return {int(i) for i in conn.scalars(
        sa.select(mv.c.id).where(mv.c.id.in_(version_ids), mv.c.kind == "model_version",
                                 _complete(mv)))}


def _flags(namespace: str | None) -> Any:
    """One row per model version: its namespace and 0/1 per fact."""
    mv = assets.alias("mv")
    probe, run = _produced_by_run(mv.c.id)
    data = _linked(run.c.id, ("dataset", "feature"))
    code = _linked(run.c.id, ("code",), commit=True)
    env = _linked(run.c.id, ("environment",))
    evaluation, link, on, dataset = (assets.alias(), relations.alias(), relations.alias(),
                                     assets.alias("dataset"))
    validated = sa.exists(
        sa.select(1)
        .select_from(link.join(evaluation, evaluation.c.id == link.c.source_id)
                     .join(on, on.c.source_id == evaluation.c.id)
                     .join(dataset, dataset.c.id == on.c.target_id))
        .where(link.c.target_id == mv.c.id, link.c.relation == "evaluated",
               evaluation.c.kind == "evaluation", on.c.relation == "evaluated_on",
               dataset.c.kind == "dataset", current_version(dataset))
    )
    facts = {
        "with_run": probe(), "with_data": probe(data), "with_code_commit": probe(code),
        "with_environment": probe(env), "with_seeds": probe(_seeded(run)),
        "complete": _complete(mv), "validated": validated,
    }
    stmt = sa.select(mv.c.namespace, *(sa.case((fact, 1), else_=0).label(name)
                                       for name, fact in facts.items()))
    stmt = stmt.where(mv.c.kind == "model_version")
    if namespace is not None:
        stmt = stmt.where(mv.c.namespace == namespace)
    return stmt.subquery("flags")


_COUNTS = ("complete", "validated", "with_run", "with_data", "with_code_commit",
           "with_environment", "with_seeds")


def _figures(values: dict[str, int]) -> dict[str, Any]:
    total = values["model_versions"]
    return {**values,
            "lineage_completeness": round(values["complete"] / total, 4) if total else 0.0,
            "validation_coverage": round(values["validated"] / total, 4) if total else 0.0}


def provenance_metrics(conn: Connection, namespace: str | None = None,
                       shown: Callable[[str], bool] | None = None) -> ProvenanceMetrics:
    """The figures per namespace (only ``namespace``'s when given, only those ``shown``
    allows when given) and over them all."""
    flags = _flags(namespace)
    stmt = (
        sa.select(flags.c.namespace, sa.func.count().label("model_versions"),
                  *(sa.func.sum(flags.c[name]).label(name) for name in _COUNTS))
        .group_by(flags.c.namespace)
        .order_by(flags.c.namespace)
    )
    teams: list[TeamProvenance] = []
    sums = dict.fromkeys(("model_versions", *_COUNTS), 0)
    for row in conn.execute(stmt):
        if shown is not None and not shown(row.namespace):
            continue  # one row per team: the filter reads what is already aggregated
        values = {name: int(getattr(row, name) or 0) for name in sums}
        teams.append(TeamProvenance(namespace=row.namespace, **_figures(values)))
        for name, value in values.items():
            sums[name] += value
    return ProvenanceMetrics(namespace=namespace, total=ProvenanceFigures(**_figures(sums)),
                             teams=teams)
