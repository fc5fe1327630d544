"""The graph side of a model card import: the assets and edges a card names, found or
created in the caller's write transaction.

Mapping (PROV): a card's ``datasets`` are what the version was trained on, so the run that
produced the version *used* them (``run --used--> dataset``, ``run --produced--> version``:
prov:used / prov:wasGeneratedBy), the same edges a registration writes; a dataset is not
``derived_from``-linked to the model, since a trained model is not a revision of its data.
``base_model`` is ``version --derived_from--> base version`` (prov:wasDerivedFrom: a
fine-tune is derived from its base). Hub ids become assets in the ``hf`` namespace
(``MODELATLAS_HF_NAMESPACE``): ``org/name`` is named ``org--name`` (the Hub's own cache
spelling; Hub ids cannot hold ``--``), datasets at version ``main`` (the Hub's default
revision) with ``location`` their Hub URL; a value written as a registry ref
(``dataset:ns/name@v``, ``model_version:ns/name@3``, ``model:ns/name``: its latest
version) names that asset, which must exist.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.refs import Ref
from modelatlas.registry._guards import Guard
from modelatlas.registry._registration import register_version
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.types import AssetCreate, ModelSpec, VersionRegistration
from modelatlas.store.tables import assets, relations, run_inputs

Node = tuple[int, Ref]
HUB = "https://huggingface.co"
_NOT_IN_NAME = re.compile(r"[^\w.-]+")


def hub_name(hub_id: str) -> str:
    """``google-bert/bert-base-uncased`` -> ``google-bert--bert-base-uncased``."""
    return "--".join(_NOT_IN_NAME.sub("-", part).strip("-") or "_"
                     for part in hub_id.strip().split("/", 1))


def hub_id(name: str) -> str:
    """The inverse of :func:`hub_name` for names it made."""
    return name.replace("--", "/", 1)


def _is_ref(value: str) -> bool:
    return value.split(":", 1)[0] in ("dataset", "model", "model_version") and ":" in value


def latest_version(tx: WriteTx, model: Ref) -> Node | None:
    row = tx.conn.execute(
        sa.select(assets.c.id, assets.c.version)
        .where(assets.c.kind == "model_version", assets.c.namespace == model.namespace,
               assets.c.name == model.name)
        .order_by(assets.c.version_number.desc()).limit(1)).first()
    if row is None:
        return None
    return int(row.id), Ref.of("model_version", model.namespace, model.name, row.version)


def _existing(tx: WriteTx, ref: Ref, path: str, guard: Guard | None) -> Node:
    asset_id = tx.require_id(ref, path)
    if guard is not None:
        guard(ref, asset_id, path)
    return asset_id, ref


def dataset_node(tx: WriteTx, value: str, hf: str, path: str, guard: Guard | None,
                 created: list[str]) -> Node:
    if _is_ref(value):
        ref = Ref.parse(value, path=path)
        if ref.kind != "dataset" or ref.version is None:
            raise InvalidInput.at(path, "a dataset ref with its version: dataset:ns/name@1")
        return _existing(tx, ref, path, guard)
    ref = Ref.of("dataset", hf, hub_name(value), "main")
    found = tx.find_id(ref)
    if found is not None:
        return _existing(tx, ref, path, guard)
    if guard is not None:
        guard(ref, None, path)
    spec = AssetCreate(ref=str(ref), description=f"Hugging Face dataset {value}",
                       metadata={"location": f"{HUB}/datasets/{value}"})
    asset_id, _ = tx.insert_asset(ref, spec, path=path)
    created.append(str(ref))
    return asset_id, ref


def base_node(tx: WriteTx, value: str, hf: str, path: str, guard: Guard | None,
              created: list[str]) -> Node:
    if _is_ref(value):
        ref = Ref.parse(value, path=path)
        if ref.kind == "model_version":
            return _existing(tx, ref, path, guard)
        if ref.kind != "model":
            raise InvalidInput.at(path, "a base model is a model or model_version ref")
        _existing(tx, ref, path, guard)
        latest = latest_version(tx, ref)
        if latest is None:
            raise NotFound(f"{ref} has no versions to derive from")
        return latest
    model = Ref.of("model", hf, hub_name(value))
    latest = latest_version(tx, model)
    if latest is not None:
        return _existing(tx, latest[1], path, guard)
    if guard is not None:
        guard(model, None, path)  # asset.create in the hf namespace, as an inline input
    registration = VersionRegistration(
        description=f"Hugging Face model {value}",
        model=ModelSpec(description=f"Hugging Face model {value} ({HUB}/{value})"))
    made = register_version(tx, model, registration, guard=guard)
    created += [*made.created, made.model_version.ref]
    return tx.require_id(Ref.parse(made.model_version.ref), path), Ref.parse(
        made.model_version.ref)


def has_edge(tx: WriteTx, source_id: int, relation: str, target_id: int) -> bool:
    return tx.conn.execute(sa.select(relations.c.source_id).where(
        relations.c.source_id == source_id, relations.c.relation == relation,
        relations.c.target_id == target_id)).first() is not None


def producing_run(tx: WriteTx, version_id: int) -> Node | None:
    row = tx.conn.execute(
        sa.select(assets.c.id, assets.c.namespace, assets.c.name)
        .select_from(relations.join(assets, assets.c.id == relations.c.source_id))
        .where(relations.c.target_id == version_id, relations.c.relation == "produced",
               assets.c.kind == "run").order_by(assets.c.id).limit(1)).first()
    if row is None:
        return None
    return int(row.id), Ref.of("run", row.namespace, row.name)


def trained_on(conn: Any, version_id: int) -> list[Node]:
    """The datasets the runs that produced the version used (run_inputs, kept by the
    database), oldest first."""
    rows = conn.execute(
        sa.select(assets.c.id, assets.c.namespace, assets.c.name, assets.c.version)
        .select_from(run_inputs.join(assets, assets.c.id == run_inputs.c.input_id))
        .where(run_inputs.c.output_id == version_id, assets.c.kind == "dataset")
        .order_by(assets.c.id)).all()
    return [(int(r.id), Ref.of("dataset", r.namespace, r.name, r.version or None))
            for r in rows]


def derived_from(conn: Any, version_id: int) -> list[Node]:
    rows = conn.execute(
        sa.select(assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name,
                  assets.c.version)
        .select_from(relations.join(assets, assets.c.id == relations.c.target_id))
        .where(relations.c.source_id == version_id, relations.c.relation == "derived_from")
        .order_by(assets.c.id)).all()
    return [(int(r.id), Ref.of(r.kind, r.namespace, r.name, r.version or None))
            for r in rows]
