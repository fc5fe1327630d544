"""Registering a model version with everything that shaped it, in one transaction."""

from __future__ import annotations

from typing import Protocol

from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.kinds import SPECS, check_version_policy
from modelatlas.refs import Ref
from modelatlas.registry._deps_store import relink, write_requirements
from modelatlas.registry._guards import Guard
from modelatlas.registry._manifests import parse_manifest, write_manifest
from modelatlas.registry._tx import WriteTx
from modelatlas.registry._withdrawal import refuse_withdrawn
from modelatlas.registry.types import (
    AssetCreate,
    AssetInput,
    InlineAsset,
    Registration,
    Relation,
    VersionRegistration,
)

Node = tuple[int, Ref]


def _resolve(tx: WriteTx, item: AssetInput, path: str, kinds: tuple[str, ...],
             created: list[str], guard: Guard | None = None) -> Node:
    """Find a referenced asset, creating it from its inline description when missing;
    ``guard`` decides whether the caller may read it, or create it (access control)."""
    ref_text = item if isinstance(item, str) else item.ref
    ref = Ref.parse(ref_text, path=path if isinstance(item, str) else f"{path}/ref")
    if ref.kind not in kinds:
        raise InvalidInput.at(path, f"expected a ref of kind {' or '.join(kinds)}, got {ref.kind}")
    asset_id = tx.find_id(ref)
    if asset_id is not None:
        if guard is not None:
            guard(ref, asset_id, path)
        return asset_id, ref
    if isinstance(item, str):
        raise NotFound(
            f"{ref} does not exist: register it first or describe it inline "
            '({"ref": ..., "metadata": {...}}) to create it with this version',
            errors=[FieldError(path, "no such asset and no inline description")],
        )
    if SPECS[ref.kind].version_policy == "assigned":
        raise NotFound(f"{ref} does not exist", errors=[FieldError(path, "no such version")])
    check_version_policy(ref, f"{path}/ref")
    if guard is not None:
        guard(ref, None, path)
    asset_id, _ = tx.insert_asset(ref, item.as_create(), path=path)
    created.append(str(ref))
    return asset_id, ref


def _model(tx: WriteTx, model: Ref, registration: VersionRegistration,
           created: list[str]) -> Node:
    asset_id = tx.find_id(model)
    if asset_id is None:
        spec = registration.model
        inline = InlineAsset(ref=str(model), **(spec.model_dump() if spec else {}))
        asset_id, _ = tx.insert_asset(model, inline.as_create(), path="/model")
        created.append(str(model))
    return asset_id, model


class RunInputs(Protocol):
    """What a registration's run and a recorded run both name as their inputs."""

    datasets: list[AssetInput]
    features: list[AssetInput]
    code: AssetInput | None
    environment: AssetInput | None


def resolve_run_inputs(tx: WriteTx, spec: RunInputs, created: list[str],
                       guard: Guard | None) -> tuple[list[Node], list[Node], list[Node]]:
    """The run's datasets, features, and code and environment (``extras``), found or
    created inline, each named by its path when it is refused."""
    datasets = [_resolve(tx, d, f"/datasets/{i}", ("dataset",), created, guard)
                for i, d in enumerate(spec.datasets)]
    features = [_resolve(tx, f, f"/features/{i}", ("feature",), created, guard)
                for i, f in enumerate(spec.features)]
    extras = [
        _resolve(tx, item, f"/{field}", (field,), created, guard)
        for field, item in (("code", spec.code), ("environment", spec.environment))
        if item is not None
    ]
    return datasets, features, extras


def _has_inputs(reg: VersionRegistration) -> bool:
    return bool(reg.run or reg.datasets or reg.features or reg.code or reg.environment)


def register_version(tx: WriteTx, model: Ref, reg: VersionRegistration, *,
                     guard: Guard | None = None) -> Registration:
    created: list[str] = []
    links: list[Relation] = []
    # Take the version number first: its counter row lock queues registrations of the same
    # model, so whoever waited then finds the model the first one created.
    number = tx.backend.next_version(tx.conn, "model_version", model.namespace, model.name)
    model_node = _model(tx, model, reg, created)
    version_ref = Ref.of("model_version", model.namespace, model.name, number)
    manifest = None if reg.manifest is None else parse_manifest(reg.manifest)
    version_spec = AssetCreate(
        ref=str(version_ref), description=reg.description, owners=reg.owners, tags=reg.tags,
        metadata=reg.metadata, custom=reg.custom, state=reg.state,
        digests={} if manifest is None else {"sha256": manifest.root_digest},
    )
    version_id, _ = tx.insert_asset(version_ref, version_spec, action=Action.VERSION_REGISTERED)
    if manifest is not None:
        write_manifest(tx, version_id, manifest)  # the root digest approvals bind to
    version_node = (version_id, version_ref)
    links.append(tx.link_new(version_node, "version_of", model_node))

    datasets, features, extras = resolve_run_inputs(tx, reg, created, guard)
    requires = [
        _resolve(tx, r, f"/requires/{i}", ("feature", "schema", "environment", "dataset"),
                 created, guard)
        for i, r in enumerate(reg.requires)
    ]
    if not reg.allow_withdrawn:
        refuse_withdrawn(tx, [(f"/datasets/{i}", n[0]) for i, n in enumerate(datasets)])
    run_asset = None
    if _has_inputs(reg):
        run = reg.run
        run_ref = Ref.of("run", model.namespace, (run.name if run and run.name
                                                  else f"{model.name}-v{number}"))
        run_spec = AssetCreate(
            ref=str(run_ref), description=run.description if run else "",
            metadata=run.metadata if run else {}, tags=run.tags if run else [],
            custom=run.custom if run else {},
        )
        run_id, _ = tx.insert_asset(run_ref, run_spec, path="/run")
        created.append(str(run_ref))
        run_node = (run_id, run_ref)
        for node in (*datasets, *features, *extras):
            links.append(tx.link_new(run_node, "used", node))
        links.append(tx.link_new(run_node, "produced", version_node))
        run_asset = tx.written(run_id)
    linked = _unique((*features, *requires))
    for node in linked:
        links.append(tx.link_new(version_node, "requires", node))
    if reg.requirements is not None:
        # After the version exists, so its requirement rows and their requires edges can
        # point at it; any refusal rolls the whole registration back.
        declared = reg.requirements.to_domain("/requirements")
        targets = write_requirements(tx, version_node, declared, path="/requirements",
                                     replace=False)
        links += relink(tx, version_node, targets, linked=[n[0] for n in linked])
    for i, parent in enumerate(reg.derived_from):
        parent_ref = Ref.parse(parent, path=f"/derived_from/{i}")
        parent_id = tx.require_id(parent_ref, f"/derived_from/{i}")
        if guard is not None:
            guard(parent_ref, parent_id, f"/derived_from/{i}")
        links.append(tx.link_new(version_node, "derived_from", (parent_id, parent_ref)))
    return Registration(
        model_version=tx.written(version_id), run=run_asset, created=created, relations=links,
    )


def _unique(nodes: tuple[Node, ...]) -> list[Node]:
    seen: dict[int, Node] = {}
    for node in nodes:
        seen.setdefault(node[0], node)
    return list(seen.values())
