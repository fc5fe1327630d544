"""Deployment manifests (KServe, Seldon) imported as ``deployment`` assets that ``serve``
the model versions they run, mixed into :class:`Registry` (through ``_integrations.py``).

Each deployed model becomes ``deployment:<namespace>/<name>`` (the namespace given, else
the manifest's ``metadata.namespace``), created or brought up to date, and is linked
``serves`` to the version it runs: the one whose artifact digest the manifest's
``modelatlas.io/sha256`` annotation names, else the one with an artifact at (or under) its
storage URI (``_deployment_match.py``). Only versions the caller may read are matched. A
URI naming several versions is reported ``ambiguous`` with its candidates and linked to
none; one naming none is ``unmatched``. Unmatched deployments are still recorded (the
platform runs them) unless ``strict``, which refuses the whole import. One transaction;
rights: ``asset.create`` and ``relation.add`` in each deployment namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError

from modelatlas.errors import FieldError, InvalidInput, UnmatchedDeployments
from modelatlas.events import Action
from modelatlas.governance.principal import Principal
from modelatlas.integrations.manifests import DeployedModel, k8s_namespace, parse_manifests
from modelatlas.refs import Ref, check_namespace, normalise_name
from modelatlas.registry import _deployment_match as match
from modelatlas.registry._card_graph import has_edge
from modelatlas.registry._guards import check_read, hidden_as_missing, tags_of
from modelatlas.registry._revalidation import after_update
from modelatlas.registry._rows import asset_from_row
from modelatlas.registry._sealing import with_plaintext
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx, snapshot_of
from modelatlas.registry._updates import updated_values
from modelatlas.registry.integration_types import (
    DeploymentMatch,
    DeploymentsImport,
    DeploymentsImported,
    SkippedManifest,
)
from modelatlas.registry.types import Asset, AssetCreate, AssetUpdate
from modelatlas.store.tables import asset_tags, assets

Node = tuple[int, Ref]


def _target(dm: DeployedModel, namespace: str | None) -> Ref:
    where = f"/manifests/{dm.source}/metadata/name"
    ns = namespace or k8s_namespace(dm.namespace or "default")
    return Ref.of("deployment", ns, normalise_name(dm.name, path=where))


def _choose(found: list[match.Candidate]) -> list[match.Candidate]:
    exact = [c for c in found if c.exact]
    return exact or found


class DeploymentImportService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry` (through ``IntegrationService``)."""

    if TYPE_CHECKING:
        def check_ungated(self, tx: WriteTx, principal: Principal | None, relation: str,
                          ends: Any) -> None: ...

        def _check_update(self, tx: WriteTx, principal: Principal | None, current: Asset,
                          values: dict[str, Any]) -> None: ...

        def note_usage(self, signal: str, refs: Any = (), terms: Any = (), *,
                       visible: Any = None) -> None: ...

    def import_deployments(self, body: DeploymentsImport | Mapping[str, Any], *,
                           actor: str | None = None,
                           principal: Principal | None = None) -> DeploymentsImported:
        """Import KServe/Seldon manifests (see the module docstring)."""
        spec = body if isinstance(body, DeploymentsImport) else _parse(body)
        sources = spec.sources or [f"manifest-{i}" for i in range(1, len(spec.manifests) + 1)]
        if len(sources) != len(spec.manifests):
            raise InvalidInput.at("/sources", "one name per manifest")
        if spec.namespace is not None:
            check_namespace(spec.namespace)
        read = [parse_manifests(text, source=src) for text, src in zip(spec.manifests,
                                                                       sources, strict=True)]
        found = [dm for m in read for dm in m.deployments]
        targets = [(dm, _target(dm, spec.namespace)) for dm in found]
        _refuse_duplicates(targets)
        for namespace in sorted({ref.namespace for _, ref in targets}):
            for action in ("asset.create", "relation.add"):
                self.authorize(principal, action, namespace, ref=f"namespace:{namespace}",
                               kind="deployment")
        visible = self._visible(principal)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            results = [self._deploy_one(tx, principal, dm, ref, visible)
                       for dm, ref in targets]
            if spec.strict:
                _refuse_unmatched(results)
        served = [s for r in results for s in r.serves]
        if served:
            self.note_usage("deployed", served)
        return DeploymentsImported(
            deployments=results,
            skipped=[SkippedManifest(source=s.source, kind=s.kind, reason=s.reason)
                     for m in read for s in m.skipped],
            matched=sum(r.status == "matched" for r in results),
            unmatched=sum(r.status != "matched" for r in results))

    def _deploy_one(self, tx: WriteTx, principal: Principal | None, dm: DeployedModel,
                    ref: Ref, visible: Any) -> DeploymentMatch:
        serves: list[match.Candidate] = []
        candidates: list[match.Candidate] = []
        matched_by = None
        if dm.sha256:
            chosen = match.by_digest(tx.conn, dm.sha256, visible)
            if chosen:
                matched_by = "sha256"
                (serves if len(chosen) == 1 else candidates).extend(chosen)
        if matched_by is None:
            for uri in dm.storage_uris:
                chosen = _choose(match.by_uri(tx.conn, uri, visible))
                (serves if len(chosen) == 1 else candidates).extend(chosen)
            matched_by = "uri" if serves else None
        node, changed = self._deployment_asset(tx, principal, dm, ref)
        for version in serves:
            end = (version.asset_id, version.ref)
            self.check_ungated(tx, principal, "serves", (node, end))
            if not has_edge(tx, node[0], "serves", version.asset_id):
                tx.link(node, "serves", end)
                changed = True
        status = "matched" if serves else "ambiguous" if candidates else "unmatched"
        return DeploymentMatch(
            deployment=str(ref), source=dm.source, platform=dm.platform, status=status,
            matched_by=matched_by, serves=[str(c.ref) for c in serves],
            candidates=[str(c.ref) for c in candidates],
            storage_uris=list(dm.storage_uris), changed=changed)

    def _deployment_asset(self, tx: WriteTx, principal: Principal | None,
                          dm: DeployedModel, ref: Ref) -> tuple[Node, bool]:
        meta = {k: v for k, v in (("target", dm.platform), ("replicas", dm.replicas),
                                  ("traffic_percent", dm.traffic_percent)) if v is not None}
        tags = [f"platform:{dm.platform}"]
        asset_id = tx.find_id(ref)
        if asset_id is None:
            description = f"{dm.kind} {dm.name}" + (f" in Kubernetes namespace {dm.namespace}"
                                                   if dm.namespace else "")
            asset_id, _ = tx.insert_asset(ref, AssetCreate(
                ref=str(ref), description=description, metadata=meta, tags=tags,
                state="active"), path=f"/manifests/{dm.source}")
            return (asset_id, ref), True
        check_read(self.check_access, tx.conn, principal, ref, tags_of(tx.conn, asset_id),
                   f"/manifests/{dm.source}")
        return (asset_id, ref), self._merge_into(tx, principal, asset_id, meta, tags)

    def _merge_into(self, tx: WriteTx, principal: Principal | None, asset_id: int,
                      meta: dict[str, Any], tags: list[str]) -> bool:
        """Merge ``meta`` and add ``tags`` as ``update_asset`` would, in this transaction;
        False when the asset already holds them."""
        row = tx.conn.execute(sa.select(assets).where(assets.c.id == asset_id)
                              .with_for_update()).one()
        current = asset_from_row(row)
        plain = tx.sealing.unseal(asset_id, current)
        current = with_plaintext(current, plain)
        merged_tags = list(dict.fromkeys([*current.tags, *tags]))
        wanted = {k: v for k, v in meta.items() if current.metadata.get(k) != v}
        if not wanted and merged_tags == current.tags:
            return False
        patch = AssetUpdate(metadata=wanted or None, tags=merged_tags)
        values = updated_values(tx, current, patch)  # the one update rule
        self._check_update(tx, principal, current, values)
        tx.sealing.reseal(asset_id, current.namespace, current.kind, values, plain)
        tx.conn.execute(assets.update().where(assets.c.id == asset_id).values(values))
        tx.conn.execute(asset_tags.delete().where(asset_tags.c.asset_id == asset_id))
        if values["tags"]:
            tx.conn.execute(asset_tags.insert(),
                            [{"asset_id": asset_id, "tag": t} for t in values["tags"]])
        payload = snapshot_of(current.ref, values)
        payload["changed"] = sorted(patch.model_dump(exclude_unset=True, exclude_none=True))
        tx.emit(Action.ASSET_UPDATED, current.ref, payload, asset_id)
        after_update(tx, current, values)  # revalidation marks, as update_asset does
        return True


def _refuse_duplicates(targets: list[tuple[DeployedModel, Ref]]) -> None:
    seen: dict[Ref, str] = {}
    for dm, ref in targets:
        if ref in seen:
            raise InvalidInput(f"{ref} is named twice: {seen[ref]} and {dm.source}",
                               errors=[FieldError(f"/manifests/{dm.source}", f"{ref} again")])
        seen[ref] = dm.source


def _refuse_unmatched(results: list[DeploymentMatch]) -> None:
    missing = [r for r in results if r.status != "matched"]
    if missing:
        raise UnmatchedDeployments(
            "strict import: no single model version found for "
            + ", ".join(f"{r.deployment} ({r.status})" for r in missing),
            errors=[FieldError(f"/manifests/{r.source}",
                               f"{r.status}: {', '.join(r.storage_uris) or 'no storage URI'}")
                    for r in missing])


def _parse(body: Mapping[str, Any]) -> DeploymentsImport:
    try:
        return DeploymentsImport.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None
