"""Importing a Feast feature repository (its ``feast registry-dump``), mixed into
:class:`Registry`.

Each feature view becomes a series ``feature:<ns>/<view>@1, @2, ...``, each data source
with stored data a series ``dataset:<ns>/<source>@N`` and each view's fields a series
``schema:<ns>/<view>@N``; a new feature version is ``derived_from`` its source's dataset
version (an on-demand view: the feature versions it reads) and ``conforms_to`` its schema
version. The newest version of each series keeps the digest of the definition it was made
from in ``custom.feast.digest`` (:mod:`modelatlas.integrations.feast` says what is
digested): an import that reads the same digest writes nothing, one that reads another
registers version ``N + 1``. A new feature or schema version goes through the same
:func:`after_create` as ``create_asset``, so the deployed model versions that depend on
the series are marked for revalidation in the same transaction, by the dependency rules
(registry/_revalidation.py). The whole import is one transaction. A series that exists but
was not made by this import from this Feast project (``custom.feast``) is never taken over:
a note says so. Rights: ``asset.create`` and ``relation.add`` in the namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from modelatlas.errors import InvalidInput
from modelatlas.governance.principal import Principal
from modelatlas.integrations.feast import (
    FeastRepo,
    FeastSource,
    FeastView,
    asset_name,
    definition_digest,
    parse_registry_dump,
)
from modelatlas.kinds.uris import parse_schemes
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry._revalidation import after_create
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.feast_types import FeastChange, FeastImport, FeastImported
from modelatlas.registry.types import AssetCreate
from modelatlas.store.tables import assets, revalidation_marks

Node = tuple[int, Ref]
_KINDS = ("feature", "dataset", "schema")


class _Report:
    def __init__(self) -> None:
        self.changes: list[FeastChange] = []
        self.unchanged = 0
        self.notes: list[str] = []

    def wrote(self, ref: Ref, what: str, detail: str) -> None:
        outcome = "created" if ref.version == "1" else "new_version"
        self.changes.append(FeastChange(ref=str(ref), outcome=outcome, what=what,
                                        detail=detail))

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.changes if c.outcome == outcome)


def _latest(tx: WriteTx, kind: str, namespace: str, name: str) -> tuple[int, int] | None:
    """(id, number) of the newest numbered version of a series, if any."""
    row = tx.conn.execute(
        sa.select(assets.c.id, assets.c.version_number)
        .where(assets.c.kind == kind, assets.c.namespace == namespace, assets.c.name == name,
               assets.c.version_number.is_not(None))
        .order_by(assets.c.version_number.desc()).limit(1)).first()
    return None if row is None else (int(row.id), int(row.version_number))


def _labels(tags: dict[str, str]) -> list[str]:
    return sorted(f"{k}={v}" if v else k for k, v in tags.items()
                  if 0 < len(f"{k}={v}") <= 200)


def _pairs(items: Any) -> dict[str, str]:
    return {str(p[0]): str(p[1]) for p in items or [] if isinstance(p, list) and len(p) == 2}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What differs between two definitions, for a person: fields by name, then the rest."""
    parts = []
    for key in ("features", "entity_columns", "fields"):
        old, new = _pairs(before.get(key)), _pairs(after.get(key))
        parts += [f"+{n} {new[n]}" for n in new if n not in old]
        parts += [f"-{n}" for n in old if n not in new]
        parts += [f"{n} {old[n]} -> {new[n]}" for n in new if n in old and old[n] != new[n]]
    parts += [key for key in sorted(after.keys() | before.keys())
              if key not in ("features", "entity_columns", "fields")
              and before.get(key) != after.get(key)]
    return "; ".join(parts) or "definition changed"


class FeastImportService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def import_feast(self, body: FeastImport | Mapping[str, Any], *, actor: str | None = None,
                     principal: Principal | None = None) -> FeastImported:
        """Import a Feast registry dump (see the module docstring)."""
        spec = body if isinstance(body, FeastImport) else _parse(body)
        namespace = check_namespace(spec.namespace, path="/namespace")
        repo = parse_registry_dump(spec.dump)
        for kind in _KINDS:
            for action in ("asset.create", "relation.add"):
                self.authorize(principal, action, namespace, ref=f"namespace:{namespace}",
                               kind=kind)
        report = _Report()
        report.notes += repo.notes
        with self.denials_recorded(), self._write(self.acting(principal, actor)) as tx:
            written = _Writer(tx, namespace, repo, report, self.settings.uri_schemes)
            # on-demand views last: they link to the versions of the views they read
            for view in sorted(repo.views,
                               key=lambda v: v.view_type == "on_demand_feature_view"):
                written.view(view)
            marked = self._marked(tx, [c.ref for c in report.changes], principal)
        return FeastImported(
            project=repo.project, namespace=namespace, feature_views=len(repo.views),
            created=report.count("created"), new_versions=report.count("new_version"),
            unchanged=report.unchanged, changes=report.changes, revalidation=marked,
            notes=report.notes)

    def _marked(self, tx: WriteTx, causes: list[str], principal: Principal | None) -> list[str]:
        """The marks this import's new versions caused, on versions the caller may read."""
        if not causes:
            return []
        stmt = (sa.select(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version,
                          revalidation_marks.c.cause_ref)
                .join(assets, assets.c.id == revalidation_marks.c.asset_id)
                .where(revalidation_marks.c.cause_ref.in_(causes))
                .order_by(revalidation_marks.c.event_seq))
        visible = self._visible(principal)
        if visible is not None:
            stmt = stmt.where(visible)
        return [f"{Ref.of(r.kind, r.namespace, r.name, r.version or None)} <- {r.cause_ref}"
                for r in tx.conn.execute(stmt)]


class _Writer:
    """One import's writes, in its transaction: each series found or advanced once."""

    def __init__(self, tx: WriteTx, namespace: str, repo: FeastRepo, report: _Report,
                 schemes: str) -> None:
        self.tx, self.namespace, self.repo, self.report = tx, namespace, repo, report
        self.schemes = parse_schemes(schemes)
        self.datasets: dict[str, Node | None] = {}
        self.features: dict[str, Node | None] = {}

    def _series(self, kind: str, name: str, identity: dict[str, Any],
                definition: dict[str, Any], digest: str,
                spec: AssetCreate) -> tuple[Node | None, bool]:
        """The series' newest version when its digest is ``digest``, else a new version
        made from ``spec`` (its ref filled in); (None, False) when the series is not ours."""
        latest = _latest(self.tx, kind, self.namespace, name)
        number = 1
        before: dict[str, Any] = {}
        if latest is not None:
            asset_id, found = latest
            ref = Ref.of(kind, self.namespace, name, found)
            mine = (self.tx.load(asset_id).custom or {}).get("feast") or {}
            if any(mine.get(k) != v for k, v in identity.items()):
                self.report.notes.append(f"{kind} {name!r} of Feast project "
                                         f"{self.repo.project!r} not imported: {ref} exists "
                                         "and was not imported from it")
                return None, False
            if mine.get("digest") == digest:
                self.report.unchanged += 1
                return (asset_id, ref), False
            number, before = found + 1, mine.get("definition") or {}
        ref = Ref.of(kind, self.namespace, name, number)
        feast = {**(spec.custom.get("feast") or {}), **identity, "digest": digest,
                 "definition": definition}
        made = spec.model_copy(update={"ref": str(ref), "custom": {"feast": feast}})
        asset_id, _ = self.tx.insert_asset(ref, made)
        after_create(self.tx, asset_id, ref)  # revalidation marks, as create_asset does
        self.report.wrote(ref, kind, _changed(before, definition) if before else "")
        return (asset_id, ref), True

    def dataset(self, source: FeastSource) -> Node | None:
        if source.name in self.datasets:
            return self.datasets[source.name]
        meta: dict[str, Any] = {"format": source.file_format} if source.file_format else {}
        scheme = (source.location or "").partition("://")[0]
        if "://" in (source.location or "") and scheme in self.schemes:
            meta["location"] = source.location
        spec = AssetCreate(ref="dataset:x/x@1", metadata=meta,
                           description=f"Feast data source {source.name} ({source.type})")
        node, _ = self._series("dataset", asset_name(source.name),
                               {"project": self.repo.project, "source": source.name},
                               source.definition, source.digest, spec)
        self.datasets[source.name] = node
        return node

    def schema(self, view: FeastView) -> Node | None:
        fields = [*view.entity_columns, *view.features]
        definition = {"fields": [[f.name, f.dtype] for f in fields]}
        spec = AssetCreate(ref="schema:x/x@1", description=f"fields of Feast view {view.name}",
                           metadata={"format": "feast",
                                     "fields": [{"name": f.name, "type": f.dtype}
                                                for f in fields]})
        node, _ = self._series("schema", asset_name(view.name),
                               {"project": self.repo.project, "view": view.name},
                               definition, definition_digest(definition), spec)
        return node

    def view(self, view: FeastView) -> None:
        source = self.dataset(view.source) if view.source and view.source.is_dataset else None
        schema = self.schema(view)
        entities = [self.repo.entities[e] for e in view.entities if e in self.repo.entities]
        meta: dict[str, Any] = {
            "entities": list(view.entities),
            "features": [{"name": f.name, "dtype": f.dtype} for f in view.features],
            "online": view.online, "ttl_seconds": view.ttl_seconds,
            "source": str(source[1]) if source else (
                ", ".join(view.inputs) or (view.source.location if view.source else None)),
            "transformation": view.transformation}
        spec = AssetCreate(
            ref="feature:x/x@1", description=view.description, tags=_labels(view.tags),
            owners=[view.owner] if view.owner else [],
            metadata={k: v for k, v in meta.items() if v is not None},
            custom={"feast": {"view_type": view.view_type, "entities": [
                {"name": e.name, "join_key": e.join_key, "value_type": e.value_type,
                 "description": e.description} for e in entities]}})
        node, new = self._series("feature", asset_name(view.name),
                                 {"project": self.repo.project, "view": view.name},
                                 view.definition, view.digest, spec)
        self.features[view.name] = node
        if node is None or not new:
            return
        for target in (source, *(self.features.get(i) for i in view.inputs)):
            if target is not None:
                self.tx.link_new(node, "derived_from", target)
        if schema is not None:
            self.tx.link_new(node, "conforms_to", schema)


def _parse(body: Mapping[str, Any]) -> FeastImport:
    try:
        return FeastImport.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None
