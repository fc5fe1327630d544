"""The service layer's integrations, mixed into :class:`Registry`: Hugging Face model cards
in (:meth:`IntegrationService.import_card`) and out (:meth:`IntegrationService.export_card`), and
deployment manifests in (``_deployment_import.py``).

A card import is one transaction. The model (created if missing) takes the card's text,
license, task (``pipeline_tag``) and framework (``library_name``) into its metadata and
the card's tags (plus the task as a vocabulary term when the taxonomy knows it). The card's
results, datasets and base models belong to a version: without ``version`` a new version is
registered with them (unless the newest version already records exactly them), with
``version`` they are linked to that version (its metadata stays as registered: metrics
that differ are reported, not written). Importing the same card twice changes nothing and
answers ``changed: false``. Rights: ``asset.update`` on the model (``asset.create`` when it
is new), ``version.register`` or ``relation.add`` in its namespace, and ``asset.create``
where Hub datasets and models are created.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.governance.policy import Target
from modelatlas.governance.principal import Principal
from modelatlas.integrations.modelcards import EvalResult, ModelCard, parse_card, render_card
from modelatlas.refs import Ref
from modelatlas.registry import _card_graph as g
from modelatlas.registry._deployment_import import DeploymentImportService
from modelatlas.registry._guards import check_read, hidden_as_missing, input_guard, tags_of
from modelatlas.registry._registration import register_version
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.integration_types import CardImport, CardImported
from modelatlas.registry.types import Asset, AssetCreate, VersionRegistration
from modelatlas.search.taxonomy import canonical
from modelatlas.store.tables import assets

Node = tuple[int, Ref]


def _model_ref(model: str | Ref) -> Ref:
    if isinstance(model, Ref):
        ref = model
    elif ":" in model:
        ref = Ref.parse(model, path="/model")
    else:
        namespace, _, name = model.partition("/")
        ref = Ref.of("model", namespace, name)
    if ref.kind != "model" or ref.version is not None:
        raise InvalidInput.at("/model", "a model: model:namespace/name (or namespace/name)")
    return ref


def _version_content(card: ModelCard) -> bool:
    return bool(card.metrics() or card.datasets or card.base_models)


class _Changes:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.updated: list[str] = []
        self.relations: list[str] = []
        self.notes: list[str] = []

    def link(self, tx: WriteTx, source: Node, relation: str, target: Node) -> None:
        if not g.has_edge(tx, source[0], relation, target[0]):
            tx.link(source, relation, target)
            self.relations.append(f"{source[1]} {relation} {target[1]}")


class IntegrationService(DeploymentImportService):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def check_ungated(self, tx: WriteTx, principal: Principal | None, relation: str,
                          ends: Any) -> None: ...

        def _check_update(self, tx: WriteTx, principal: Principal | None, current: Asset,
                          values: dict[str, Any]) -> None: ...

        def get_asset(self, ref: str | Ref, *, principal: Principal | None = None
                      ) -> Asset: ...

    # import -----------------------------------------------------------------------------
    def import_card(self, model: str | Ref, body: CardImport | Mapping[str, Any], *,
                    actor: str | None = None,
                    principal: Principal | None = None) -> CardImported:
        """Read a Hugging Face-style card onto ``model`` (see the module docstring)."""
        spec = body if isinstance(body, CardImport) else _parse(body)
        card = parse_card(spec.card)
        ref = _model_ref(model)
        self.authorize(principal, "asset.update", ref.namespace, ref=str(ref), kind="model")
        if spec.version is not None:
            self.authorize(principal, "relation.add", ref.namespace,
                           ref=str(ref.with_version(None)), kind="model_version")
        elif _version_content(card):
            self.authorize(principal, "version.register", ref.namespace, ref=str(ref),
                           kind="model_version")
        changes = _Changes()
        changes.notes += card.notes
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            model_node = self._card_model(tx, principal, ref, card, changes)
            version = self._card_version(tx, principal, model_node, card, spec.version,
                                         changes)
        return CardImported(
            model=str(ref), model_version=None if version is None else str(version[1]),
            changed=bool(changes.created or changes.updated or changes.relations),
            created=changes.created, updated=changes.updated, relations=changes.relations,
            notes=changes.notes)

    def _card_tags(self, tx: WriteTx, card: ModelCard) -> list[str]:
        tags = list(card.tags)
        if card.pipeline_tag:
            task = card.pipeline_tag
            tags.append(canonical(tx.conn, task) or canonical(tx.conn, f"task:{task}") or task)
        return list(dict.fromkeys(tags))

    def _card_model(self, tx: WriteTx, principal: Principal | None, ref: Ref,
                    card: ModelCard, changes: _Changes) -> Node:
        meta = {key: value for key, value in (
            ("card", card.text or None), ("license", card.license),
            ("task", card.pipeline_tag), ("framework", card.library_name)) if value}
        tags = self._card_tags(tx, card)
        asset_id = tx.find_id(ref)
        if asset_id is None:
            self.check_access(tx.conn, principal, "asset.create", ref.namespace,
                              Target(ref=str(ref), kind="model"))
            asset_id, _ = tx.insert_asset(ref, AssetCreate(ref=str(ref), metadata=meta,
                                                           tags=tags), path="/model")
            changes.created.append(str(ref))
            return asset_id, ref
        check_read(self.check_access, tx.conn, principal, ref, tags_of(tx.conn, asset_id),
                   "/model")
        if self._merge_into(tx, principal, asset_id, meta, tags):
            changes.updated.append(str(ref))
        return asset_id, ref

    def _card_nodes(self, tx: WriteTx, principal: Principal | None, card: ModelCard,
                    changes: _Changes) -> tuple[list[Node], list[Node]]:
        guard = input_guard(self.check_access, tx.conn, principal)
        hf = self.settings.hf_namespace
        datasets = [g.dataset_node(tx, d, hf, f"/card/datasets/{i}", guard, changes.created)
                    for i, d in enumerate(card.datasets)]
        bases = [g.base_node(tx, b, hf, f"/card/base_model/{i}", guard, changes.created)
                 for i, b in enumerate(card.base_models)]
        return datasets, bases

    def _card_version(self, tx: WriteTx, principal: Principal | None, model: Node,
                      card: ModelCard, number: int | None, changes: _Changes) -> Node | None:
        if number is None and not _version_content(card):
            return None
        datasets, bases = self._card_nodes(tx, principal, card, changes)
        meta: dict[str, Any] = {k: v for k, v in (("task", card.pipeline_tag),
                                  ("framework", card.library_name)) if v}
        if card.metrics():
            meta["metrics"] = card.metrics()
        if number is not None:
            vref = Ref.of("model_version", model[1].namespace, model[1].name, number)
            return self._onto_version(tx, principal, vref, meta,
                                      datasets, bases, changes)
        latest = g.latest_version(tx, model[1])
        if latest is not None and _records(tx, latest, meta, datasets, bases):
            return latest
        registration = VersionRegistration(
            metadata=meta, datasets=[str(d[1]) for d in datasets],
            derived_from=[str(b[1]) for b in bases])
        guard = input_guard(self.check_access, tx.conn, principal)
        made = register_version(tx, model[1], registration, guard=guard)
        changes.created += [made.model_version.ref, *made.created]
        changes.relations += [f"{r.source} {r.relation} {r.target}" for r in made.relations]
        ref = Ref.parse(made.model_version.ref)
        return tx.require_id(ref, "/model"), ref

    def _onto_version(self, tx: WriteTx, principal: Principal | None, ref: Ref,
                      meta: dict[str, Any], datasets: list[Node], bases: list[Node],
                      changes: _Changes) -> Node:
        version = (tx.require_id(ref, "/version"), ref)
        check_read(self.check_access, tx.conn, principal, ref, tags_of(tx.conn, version[0]),
                   "/version")
        stored = tx.load(version[0]).metadata
        for key, value in meta.items():
            if stored.get(key) not in (None, value) or (key == "metrics" and
                                                        stored.get(key) != value):
                changes.notes.append(f"{key} not written: {ref} is registered and its "
                                     "metadata cannot change (register a new version)")
        for base in bases:
            self.check_ungated(tx, principal, "derived_from", (version, base))
            changes.link(tx, version, "derived_from", base)
        if datasets:
            run = g.producing_run(tx, version[0]) or self._card_run(tx, version, changes)
            for dataset in datasets:
                changes.link(tx, run, "used", dataset)
        return version

    def _card_run(self, tx: WriteTx, version: Node, changes: _Changes) -> Node:
        """The run that produced a version registered without one: recorded now, so the
        card's training datasets have an activity that used them."""
        ref = Ref.of("run", version[1].namespace,
                     f"{version[1].name}-v{version[1].version}")
        run_id = tx.find_id(ref)
        if run_id is None:
            run_id, _ = tx.insert_asset(ref, AssetCreate(
                ref=str(ref), description=f"training run of {version[1]} (from its card)"))
            changes.created.append(str(ref))
        changes.link(tx, (run_id, ref), "produced", version)
        return run_id, ref

    # export -----------------------------------------------------------------------------
    def export_card(self, ref: str | Ref, *, principal: Principal | None = None) -> str:
        """A Hugging Face-style README.md for a model version (a model: its newest
        version), from its metadata and lineage; only what the caller may read."""
        parsed = Ref.coerce(ref)
        version = self.get_asset(parsed, principal=principal)
        if version.kind == "model":
            with self.db.read() as conn:
                found = conn.execute(sa.select(assets.c.version).where(
                    assets.c.kind == "model_version", assets.c.namespace == parsed.namespace,
                    assets.c.name == parsed.name).order_by(assets.c.version_number.desc())
                    .limit(1)).scalar()
            if found is None:
                raise InvalidInput.at("/ref", f"{parsed} has no versions to describe")
            version = self.get_asset(Ref.of("model_version", parsed.namespace, parsed.name,
                                            found), principal=principal)
        elif version.kind != "model_version":
            raise InvalidInput.at("/ref", "a card describes a model or a model version")
        vref = Ref.parse(version.ref)
        model = self.get_asset(Ref.of("model", vref.namespace, vref.name), principal=principal)
        with self.db.read() as conn:
            vid = conn.execute(sa.select(assets.c.id).where(
                assets.c.kind == "model_version", assets.c.namespace == vref.namespace,
                assets.c.name == vref.name, assets.c.version == vref.version)).scalar_one()
            datasets = self._readable(principal, [n[1] for n in g.trained_on(conn, vid)])
            bases = self._readable(principal, [n[1] for n in g.derived_from(conn, vid)])
        return _render(self.settings.hf_namespace, model, version, datasets, bases)

    def _readable(self, principal: Principal | None, refs: list[Ref]) -> list[Ref]:
        if principal is None or principal.is_local:
            return refs
        out = []
        for ref in refs:
            try:
                self.get_asset(ref, principal=principal)
            except NotFound:  # unreadable is left out, as a missing one
                continue
            out.append(ref)
        return out


def _records(tx: WriteTx, version: Node, meta: dict[str, Any], datasets: list[Node],
             bases: list[Node]) -> bool:
    """Whether ``version`` already records what the card says (a re-import)."""
    stored = tx.load(version[0]).metadata
    if any(stored.get(k) != v for k, v in meta.items()) or (
            "metrics" not in meta and stored.get("metrics")):
        return False
    return ({n[0] for n in g.trained_on(tx.conn, version[0])} == {n[0] for n in datasets}
            and {n[0] for n in g.derived_from(tx.conn, version[0])} == {n[0] for n in bases})


def _outside_id(ref: Ref, hf: str) -> str:
    """How a card names an asset: its Hub id when it came from the Hub, else its ref."""
    if ref.namespace == hf and (ref.kind == "model_version" or ref.version == "main"):
        return g.hub_id(ref.name)
    return str(ref)


def _lines(title: str, items: Iterator[str] | list[str]) -> str:
    listed = [f"- {item}" for item in items]
    return f"### {title}\n\n" + "\n".join(listed) if listed else ""


def _render(hf: str, model: Asset, version: Asset, datasets: list[Ref],
            bases: list[Ref]) -> str:
    mmeta, vmeta = model.metadata, version.metadata
    task = vmeta.get("task") or mmeta.get("task")
    metrics = {str(k): float(v) for k, v in (vmeta.get("metrics") or {}).items()}
    ref = Ref.parse(version.ref)
    card = ModelCard(
        text=str(mmeta.get("card") or ""), license=mmeta.get("license"),
        datasets=tuple(_outside_id(d, hf) for d in datasets),
        results=(EvalResult(task, None, metrics),) if metrics else (),
        tags=tuple(model.tags), base_models=tuple(_outside_id(b, hf) for b in bases),
        pipeline_tag=task, library_name=vmeta.get("framework") or mmeta.get("framework"),
        model_name=ref.name)
    head = f"# {ref.name} (version {ref.version})\n\n{version.description or model.description}"
    table = "\n".join(f"| {k} | {v:g} |" for k, v in sorted(metrics.items()))
    tail = "\n\n".join(part for part in (
        f"## Metrics\n\n| metric | value |\n| --- | --- |\n{table}" if metrics else "",
        "## Lineage\n\n" + "\n\n".join(p for p in (
            f"Registered in ModelAtlas as `{version.ref}` (state {version.state}).",
            _lines("Trained on", [f"`{d}`" for d in datasets]),
            _lines("Derived from", [f"`{b}`" for b in bases])) if p)) if part)
    return render_card(card, generated_head=head, generated_tail=tail)


def _parse(body: Mapping[str, Any]) -> CardImport:
    try:
        return CardImport.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None
