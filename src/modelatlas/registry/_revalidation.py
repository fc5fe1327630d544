"""Revalidation marks: when a dependency of a *deployed* model version changes, the version
is marked in the same transaction as the change, and a passing evaluation against the new
dependency clears the mark.

Triggers (each called by the service inside the change's write transaction):

* a new feature version (``create_asset`` of ``feature:ns/name@N``): model versions that
  will pick it up (their declared constraint admits it) or that require or trained on an
  older version of it; cause = the new version's ref;
* a new schema version (``create_asset`` of ``schema:ns/name@N``): the consumers impact
  analysis finds (declared input schema, requiring an older version, trained on data
  conforming to one), whether or not the change breaks a field they read; cause = the ref;
* an environment whose ``metadata.packages`` changed (``update_asset``): every version
  running in it (see :func:`running_in`); cause = the environment's ref. A later change of
  the same environment replaces the mark (new reason, event and time).

"Deployed" is: state ``production`` or ``staging``, or served by a pending or active
deployment. Marks are per model version and cause; each appends ``revalidation.needed``.

Clearing rule: an evaluation with ``metadata.passed`` true, created after the mark, that
``evaluated`` the marked version and ``used`` / ``evaluated_on`` / ``associated_with``
the cause asset clears it (``revalidation.cleared``). It is checked whenever an edge from
an evaluation is added and when an evaluation is updated, so the order in which the links
and the verdict arrive does not matter. A failing or undecided evaluation clears nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from packaging.version import InvalidVersion, Version

from modelatlas.deps.pins import markers_of
from modelatlas.events import Action
from modelatlas.refs import Ref
from modelatlas.registry._impact_analysis import (
    asset_impact,
    package_violations,
    pins,
    schema_impact,
)
from modelatlas.registry._impact_graph import (
    NODE_COLUMNS,
    Collector,
    Node,
    deployed_ids,
    node_of,
    running_in,
)
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.impact_types import Affected, ImpactChange
from modelatlas.registry.types import Asset
from modelatlas.store.tables import assets, relations, revalidation_marks

EVIDENCE = ("used", "evaluated_on", "associated_with")


def after_create(tx: WriteTx, asset_id: int, ref: Ref) -> None:
    """Mark what a new feature or schema version affects."""
    if not ref.version or ref.kind not in ("feature", "schema"):
        return
    change = ImpactChange(asset=str(ref))
    found = Collector()
    if ref.kind == "feature":
        asset_impact(tx.conn, change, pick_up_only=True, depth=1, collector=found)
    else:
        schema_impact(tx.conn, change, depth=2, keep_compatible=True, collector=found)
    _mark_deployed(tx, found.model_versions, str(ref))


def after_update(tx: WriteTx, before: Asset, values: dict[str, Any]) -> None:
    """An environment's packages changed: mark the deployed versions running in it. An
    evaluation's verdict changed: it may clear marks."""
    if before.kind == "evaluation":
        clear_for(tx, tx.require_id(Ref.parse(before.ref), "/ref"))
        return
    if before.kind != "environment":
        return
    old, new = pins(before.metadata.get("packages") or []), pins(values["meta"].get("packages")
                                                                 or [])
    changed = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    if not changed:
        return
    env_id = tx.require_id(Ref.parse(before.ref), "/ref")
    moves = ", ".join(f"{n} {old.get(n, '(none)')} -> {new.get(n, '(removed)')}" for n in changed)
    rows = tx.conn.execute(
        sa.select(*NODE_COLUMNS).where(assets.c.id.in_(running_in(env_id)),
                                       assets.c.kind == "model_version")
    )
    versions = {n.id: n for n in map(node_of, rows)}
    violations = _violations(tx, values["meta"], new, changed, list(versions))
    reasons = {
        i: Affected(ref=n.ref, kind=n.kind, state=n.state,
                    reasons=[f"{before.ref} changed: {moves}", *violations.get(i, [])])
        for i, n in versions.items()
    }
    _mark_deployed(tx, reasons, before.ref)


def _violations(tx: WriteTx, meta: dict[str, Any], new: dict[str, str], changed: list[str],
                version_ids: list[int]) -> dict[int, list[str]]:
    """Per version, the constraints the new pins break (``numpy 2.1.0 does not satisfy <2
    (requirements.txt:3)``), so the mark says whether revalidation is likely to fail."""
    found: dict[int, list[str]] = {}
    if not version_ids:
        return found
    markers = markers_of(meta)
    for name in changed:
        try:
            version = Version(new.get(name, ""))
        except InvalidVersion:
            continue  # removed, or not a pin: presence is not checked here
        for node, spec, origin in package_violations(
            tx.conn, name, version, markers, env_id=None, limit=100_000, among=version_ids
        ):
            found.setdefault(node.id, []).append(
                f"{name} {new[name]} does not satisfy {spec} ({origin})")
    return found


def _mark_deployed(tx: WriteTx, versions: dict[int, Affected], cause: str) -> None:
    for asset_id in sorted(deployed_ids(tx.conn, list(versions))):
        affected = versions[asset_id]
        mark(tx, Node(asset_id, affected.kind, affected.ref, affected.state), cause,
             "; ".join(affected.reasons))


def mark(tx: WriteTx, node: Node, cause: str, reason: str) -> None:
    """Mark ``node`` (replacing an earlier mark with the same cause) and append the event."""
    payload = {"ref": node.ref, "cause": cause, "reason": reason}
    seq = tx.emit_now(Action.REVALIDATION_NEEDED, node.ref, payload, node.id)
    key = (revalidation_marks.c.asset_id == node.id) & (revalidation_marks.c.cause_ref == cause)
    tx.conn.execute(revalidation_marks.delete().where(key))
    tx.conn.execute(revalidation_marks.insert().values(
        asset_id=node.id, cause_ref=cause, reason=reason, event_seq=seq, marked_at=tx.now,
    ))


def after_link(tx: WriteTx, source_id: int, source: Ref) -> None:
    if source.kind == "evaluation":
        clear_for(tx, source_id)


def clear_for(tx: WriteTx, evaluation_id: int) -> None:
    """Clear the marks this evaluation settles (the rule is in the module docstring)."""
    row = tx.conn.execute(
        sa.select(assets.c.meta, assets.c.created_at, assets.c.kind)
        .where(assets.c.id == evaluation_id)
    ).one()
    if row.kind != "evaluation" or row.meta.get("passed") is not True:
        return
    edges = tx.conn.execute(
        sa.select(relations.c.relation, relations.c.target_id)
        .where(relations.c.source_id == evaluation_id)
    ).all()
    evaluated = [int(t) for r, t in edges if r == "evaluated"]
    evidence = {int(t) for r, t in edges if r in EVIDENCE}
    if not evaluated or not evidence:
        return
    marks = tx.conn.execute(
        sa.select(revalidation_marks, *NODE_COLUMNS)
        .join(assets, assets.c.id == revalidation_marks.c.asset_id)
        .where(revalidation_marks.c.asset_id.in_(evaluated),
               revalidation_marks.c.marked_at <= row.created_at)
    ).all()
    evaluation = _ref_of(tx, evaluation_id)
    for found in marks:
        cause_id = tx.find_id(Ref.parse(found.cause_ref))
        if cause_id is None or cause_id not in evidence or _withdrawn(tx, cause_id):
            continue  # evidence from withdrawn data settles nothing (_withdrawal.py)
        tx.conn.execute(revalidation_marks.delete().where(
            revalidation_marks.c.asset_id == found.asset_id,
            revalidation_marks.c.cause_ref == found.cause_ref,
        ))
        node = node_of(found)
        tx.emit(Action.REVALIDATION_CLEARED, node.ref,
                {"ref": node.ref, "cause": found.cause_ref, "evaluation": evaluation},
                node.id)


def _withdrawn(tx: WriteTx, asset_id: int) -> bool:
    state = tx.conn.execute(sa.select(assets.c.state).where(assets.c.id == asset_id)).scalar()
    return bool(state == "withdrawn")


def _ref_of(tx: WriteTx, asset_id: int) -> str:
    row = tx.conn.execute(sa.select(*NODE_COLUMNS).where(assets.c.id == asset_id)).one()
    return node_of(row).ref
