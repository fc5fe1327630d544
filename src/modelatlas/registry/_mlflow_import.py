"""Importing an MLflow tracking server's model registry, mixed into :class:`Registry`.

MLflow is read first (network, outside any transaction), then each registered model is
written in one transaction with its versions, the runs behind them, their dataset inputs,
the versions' requirements and the model's aliases; stages are applied after it, through
:meth:`LifecycleService.set_stage`. A failure leaves the models before it imported, and a
new import continues: it is idempotent. What exists already is found by its ref (the
mapping in :mod:`modelatlas.integrations.mlflow`) and checked against the MLflow identity
kept in ``custom.mlflow``, so a hand-made asset under the same ref is reported, never
taken over.

Version numbers line up with MLflow's: MLflow numbers its versions itself, so the import
writes ``model_version:<ns>/<name>@<n>`` under MLflow's ``n`` (the ``version.registered``
event a registration appends) and moves the model's version counter past it, as a bulk
load does; a version registered afterwards in ModelAtlas takes the next free number.

Stages are a record of what MLflow decided, but they do not bypass the namespace's rules:
each move goes through ``set_stage``, so it needs ``stage.change`` and production answers
to the promotion policy (a refused move is a note, and the policy's request for approval
is recorded). MLflow's ``None`` never moves a version back. Rights: ``asset.create``,
``version.register`` and ``relation.add`` in the target namespace, ``alias.set`` (or
``alias.set_protected``) for each alias.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from modelatlas.errors import ModelAtlasError
from modelatlas.events import Action
from modelatlas.governance import lifecycle as lc
from modelatlas.governance.principal import Principal
from modelatlas.integrations.mlflow import (
    MlflowDataset,
    MlflowModel,
    MlflowReader,
    MlflowRun,
    MlflowVersion,
    asset_name,
    check_tracking_uri,
    run_name,
)
from modelatlas.kinds.uris import parse_schemes
from modelatlas.refs import Ref, check_namespace, check_version
from modelatlas.registry._aliases import _upsert
from modelatlas.registry._card_graph import has_edge
from modelatlas.registry._deps_store import write_requirements
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.deps_types import RequirementsIn
from modelatlas.registry.mlflow_types import MlflowChange, MlflowImported
from modelatlas.registry.types import AssetCreate
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from modelatlas.registry.lifecycle_types import StageChange
    from modelatlas.registry.types import Asset

Node = tuple[int, Ref]
Progress = Callable[[int, int, str], None]  # (models done, models in all, model name)


class _Report:
    def __init__(self) -> None:
        self.changes: list[MlflowChange] = []
        self.unchanged = 0
        self.notes: list[str] = []
        self.seen: set[Ref] = set()  # runs and datasets met already (versions share them)

    def first_time(self, ref: Ref) -> bool:
        if ref in self.seen:
            return False
        self.seen.add(ref)
        return True

    def made(self, ref: Ref | str, what: str, detail: str = "") -> None:
        self.changes.append(MlflowChange(ref=str(ref), outcome="created", what=what,
                                         detail=detail))

    def moved(self, ref: Ref | str, what: str, detail: str) -> None:
        self.changes.append(MlflowChange(ref=str(ref), outcome="updated", what=what,
                                         detail=detail))

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.changes if c.outcome == outcome)


def _labels(tags: dict[str, str]) -> list[str]:
    """MLflow's own tags (``mlflow.*``) are bookkeeping; the others become labels."""
    return sorted(f"{k}={v}" if v else k for k, v in tags.items()
                  if not k.startswith("mlflow.") and 0 < len(f"{k}={v}") <= 200)


def _owned(asset: Asset, identity: dict[str, Any]) -> bool:
    """Whether an existing asset is the MLflow object the import maps to its ref."""
    mine = (asset.custom or {}).get("mlflow") or {}
    return all(mine.get(k) == v for k, v in identity.items())


class MlflowImportService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def set_stage(self, namespace: str, name: str, version: str | int,
                      body: StageChange | dict[str, Any], *, actor: str | None = None,
                      principal: Principal | None = None) -> Asset: ...

    def import_mlflow(self, tracking_uri: str, *, namespace: str = "mlflow",
                      actor: str | None = None, principal: Principal | None = None,
                      progress: Progress | None = None) -> MlflowImported:
        """Import an MLflow tracking server's registered models (see the module
        docstring); ``progress`` hears of each model once it is written."""
        base = check_tracking_uri(tracking_uri)
        check_namespace(namespace)
        for action, kind in (("asset.create", "model"), ("version.register", "model_version"),
                             ("relation.add", "run")):
            self.authorize(principal, action, namespace, kind=kind)
        report = _Report()
        with MlflowReader(base) as reader:
            names = reader.model_names()
            for done, name in enumerate(names, start=1):
                model = reader.model(name)
                report.notes += model.notes
                self._import_model(model, namespace, report, actor, principal)
                if progress is not None:
                    progress(done, len(names), name)
        return MlflowImported(
            tracking_uri=base, namespace=namespace, models=len(names),
            created=report.count("created"), updated=report.count("updated"),
            unchanged=report.unchanged, changes=report.changes, notes=report.notes)

    def _import_model(self, model: MlflowModel, namespace: str, report: _Report,
                      actor: str | None, principal: Principal | None) -> None:
        ref = Ref.of("model", namespace, asset_name(model.name))
        for alias in model.aliases:
            self.authorize(principal, "alias.set", namespace, ref=str(ref), kind="model",
                           alias=alias)
        with self.denials_recorded(), self._write(self.acting(principal, actor)) as tx:
            node = self._model_node(tx, ref, model, report)
            if node is None:
                return
            versions = {}
            for version in model.versions:
                found = self._version_node(tx, node, version, report)
                if found is not None:
                    versions[version.number] = found
            if versions:
                tx.backend.advance_counters(
                    tx.conn, {("model_version", ref.namespace, ref.name): max(versions)})
            self._aliases(tx, node, model, versions, report)
        self._stages(ref, model, versions, report, actor, principal)

    def _model_node(self, tx: WriteTx, ref: Ref, model: MlflowModel,
                    report: _Report) -> Node | None:
        asset_id = tx.find_id(ref)
        if asset_id is not None:
            if not _owned(tx.load(asset_id), {"name": model.name}):
                report.notes.append(f"MLflow model {model.name!r} not imported: {ref} exists "
                                    "and is not that model")
                return None
            report.unchanged += 1
            return asset_id, ref
        spec = AssetCreate(ref=str(ref), description=model.description,
                           tags=_labels(model.tags),
                           custom={"mlflow": {"name": model.name, "tags": model.tags}})
        asset_id, _ = tx.insert_asset(ref, spec)
        report.made(ref, "model")
        return asset_id, ref

    def _version_node(self, tx: WriteTx, model: Node, version: MlflowVersion,
                      report: _Report) -> Node | None:
        ref = Ref.of("model_version", model[1].namespace, model[1].name, version.number)
        identity = {"name": tx.load(model[0]).custom["mlflow"]["name"],
                    "version": version.number}
        asset_id = tx.find_id(ref)
        if asset_id is not None:
            if not _owned(tx.load(asset_id), identity):
                report.notes.append(f"MLflow {identity['name']} version {version.number} "
                                    f"not imported: {ref} exists and is not that version")
                return None
            report.unchanged += 1
            node = (asset_id, ref)
            new = False
        else:
            node = self._new_version(tx, model, ref, identity, version)
            report.made(ref, "model_version")
            new = True
        if version.run is not None:
            self._run(tx, node, version.run, new, report)
        return node

    def _new_version(self, tx: WriteTx, model: Node, ref: Ref, identity: dict[str, Any],
                     version: MlflowVersion) -> Node:
        run = version.run
        mlflow = {**identity, "run_id": version.run_id, "source": version.source,
                  "status": version.status, "tags": version.tags,
                  "created_at": None if version.created_at is None
                  else version.created_at.isoformat()}
        spec = AssetCreate(ref=str(ref), description=version.description,
                           tags=_labels(version.tags),
                           metadata={"metrics": run.metrics} if run and run.metrics else {},
                           custom={"mlflow": mlflow})
        asset_id, _ = tx.insert_asset(ref, spec, action=Action.VERSION_REGISTERED)
        node = (asset_id, ref)
        tx.link_new(node, "version_of", model)
        if version.requirements:
            declared = RequirementsIn(packages=list(version.requirements))
            write_requirements(tx, node, declared.to_domain("/requirements"),
                               path="/requirements", replace=False)
        return node

    def _run(self, tx: WriteTx, version: Node, run: MlflowRun, new_version: bool,
             report: _Report) -> None:
        ref = Ref.of("run", version[1].namespace, run_name(run.run_id, run.name))
        asset_id = tx.find_id(ref)
        if asset_id is None:
            asset_id = self._new_run(tx, ref, run)
            report.made(ref, "run")
        elif not _owned(tx.load(asset_id), {"run_id": run.run_id}):
            report.notes.append(f"MLflow run {run.run_id} not imported: {ref} exists and is "
                                "not that run")
            return
        elif report.first_time(ref):
            report.unchanged += 1
        report.seen.add(ref)
        node = (asset_id, ref)
        if new_version or not has_edge(tx, asset_id, "produced", version[0]):
            tx.link(node, "produced", version)
        for dataset in run.datasets:
            target = self._dataset(tx, ref.namespace, dataset, report)
            if target is not None and not has_edge(tx, asset_id, "used", target[0]):
                tx.link(node, "used", target, {"context": dataset.context} if dataset.context
                        else None)

    def _new_run(self, tx: WriteTx, ref: Ref, run: MlflowRun) -> int:
        meta: dict[str, Any] = {"parameters": run.params, "metrics": run.metrics,
                                "status": run.status, "user": run.user}
        for key, value in (("started_at", run.started_at), ("ended_at", run.ended_at)):
            if value is not None:
                meta[key] = value.isoformat()
        custom = {"mlflow": {"run_id": run.run_id, "name": run.name,
                             "experiment_id": run.experiment_id, "tags": run.tags}}
        asset_id, _ = tx.insert_asset(ref, AssetCreate(
            ref=str(ref), description=f"MLflow run {run.name or run.run_id}",
            tags=_labels(run.tags), metadata={k: v for k, v in meta.items() if v is not None},
            custom=custom))
        return asset_id

    def _dataset(self, tx: WriteTx, namespace: str, dataset: MlflowDataset,
                 report: _Report) -> Node | None:
        try:
            version = check_version(dataset.digest)
        except ModelAtlasError:
            report.notes.append(f"dataset {dataset.name!r} not imported: its digest "
                                f"{dataset.digest!r} cannot be a version")
            return None
        ref = Ref.of("dataset", namespace, asset_name(dataset.name), version)
        asset_id = tx.find_id(ref)
        if asset_id is not None:
            if report.first_time(ref):
                report.unchanged += 1
            return asset_id, ref
        meta: dict[str, Any] = {}
        scheme = (dataset.source or "").partition(":")[0]
        if dataset.source and scheme in parse_schemes(self.settings.uri_schemes):
            meta["location"] = dataset.source
        custom = {"mlflow": {"name": dataset.name, "digest": dataset.digest,
                             "source_type": dataset.source_type, "source": dataset.source}}
        asset_id, _ = tx.insert_asset(ref, AssetCreate(ref=str(ref), metadata=meta,
                                                       custom=custom))
        report.made(ref, "dataset")
        report.seen.add(ref)
        return asset_id, ref

    def _aliases(self, tx: WriteTx, model: Node, mlflow: MlflowModel,
                 versions: dict[int, Node], report: _Report) -> None:
        for alias, number in sorted(mlflow.aliases.items()):
            target = versions.get(number)
            if target is None:
                report.notes.append(f"alias {alias} of {model[1]} not set: version {number} "
                                    "was not imported")
                continue
            before = len(tx.pending)
            _upsert(tx, model, alias, target)
            detail = f"{alias} -> {target[1].version}"
            if len(tx.pending) == before:  # already there: no event
                report.unchanged += 1
            elif tx.pending[-1][0].payload.get("previous") is None:
                report.made(model[1], "alias", detail)
            else:
                report.moved(model[1], "alias", detail)

    def _stages(self, model: Ref, mlflow: MlflowModel, versions: dict[int, Node],
                report: _Report, actor: str | None, principal: Principal | None) -> None:
        states = {}
        with self.db.read() as conn:
            for number, (asset_id, _) in versions.items():
                states[number] = conn.execute(sa.select(assets.c.state).where(
                    assets.c.id == asset_id)).scalar_one()
        for version in mlflow.versions:
            state = states.get(version.number)
            if state is None or version.stage == lc.REGISTERED:
                continue
            if state == version.stage:
                report.unchanged += 1
                continue
            try:
                self.set_stage(model.namespace, model.name, version.number,
                               {"stage": version.stage, "comment": "imported from MLflow"},
                               actor=actor, principal=principal)
            except ModelAtlasError as exc:
                report.notes.append(f"{versions[version.number][1]} not moved to "
                                    f"{version.stage} as in MLflow: {exc.detail}")
                continue
            report.moved(versions[version.number][1], "stage", f"{state} -> {version.stage}")

