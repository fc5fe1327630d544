"""Approval of lineage changes to production versions, mixed into :class:`Registry`.

Adding or removing a lineage edge (:data:`GATED_RELATIONS`) whose source or target is a
model version in stage ``production`` is not applied when it is asked for: it becomes a
pending change request (``lineage_change.requested``), and a maintainer of the version's
namespace other than the requester (another person: a second token of the same person is
the same person) approves it, which applies it in the approval's transaction
(``lineage_change.applied`` and the usual ``relation.added`` / ``relation.removed``), or
rejects it (``lineage_change.rejected``).

Where edges are written:

- ``add_relation`` / ``remove_relation`` ask :meth:`LineageChangeService.lineage_gated`
  first (no query unless the relation is gated and an end is a model version) and take
  the request path; the direct path checks again in its own transaction, holding the
  versions' rows (FOR SHARE), so a promotion in between cannot let an edge slip through.
- Registration writes edges whose one end is the version it creates (not yet in
  production: its stage is the registration's own), so it changes no production
  version's lineage; a ``derived_from`` parent in production gains a descendant, its own
  provenance is unchanged.
- Recorded runs link a run to datasets, features, code and environments only, and
  OpenLineage maps to runs, datasets, code and schemas only: neither names a model version.
- The embedded single user (no authentication) is one person with every right: there is
  no second person to approve, so its changes apply directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas.errors import AlreadyExists, Conflict, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.policy import AccessDenied, Decision, Target
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Role
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import check_read, hidden_as_missing, tags_of
from modelatlas.registry._revalidation import after_link
from modelatlas.registry._rows import check_limit, decode_cursor, encode_cursor, format_ref
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import relation_payload
from modelatlas.registry.alias_types import LineageChange, LineageDecision
from modelatlas.registry.types import Page
from modelatlas.relations import check_edge
from modelatlas.store.tables import assets, lineage_changes, relations

if TYPE_CHECKING:
    from modelatlas.registry._tx import WriteTx

GATED_RELATIONS = frozenset({"used", "produced", "derived_from", "evaluated", "requires"})
PRODUCTION = "production"
STATUSES = ("pending", "applied", "rejected")
DECIDE = "lineage.approve"
Op = Literal["add", "remove"]
Ends = tuple[tuple[int, Ref], tuple[int, Ref]]

_V, _S, _T = (assets.alias(n) for n in ("lc_version", "lc_source", "lc_target"))
_SELECT = (
    sa.select(lineage_changes,
              *(t.c[c].label(f"{p}_{c}") for p, t in (("v", _V), ("s", _S), ("t", _T))
                for c in ("kind", "namespace", "name", "version")))
    .select_from(lineage_changes
                 .join(_V, _V.c.id == lineage_changes.c.asset_id)
                 .join(_S, _S.c.id == lineage_changes.c.source_id)
                 .join(_T, _T.c.id == lineage_changes.c.target_id))
)


def _gated(principal: Principal | None, relation: str, source: Ref, target: Ref) -> bool:
    """Whether the edge could need approval, from what the request says (no query)."""
    return (principal is not None and not principal.is_local
            and relation in GATED_RELATIONS
            and "model_version" in (source.kind, target.kind))


def production_ends(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> list[int]:
    """Which of ``ids`` are model versions in production. ``lock`` holds the versions'
    rows (FOR SHARE on PostgreSQL; SQLite's one writer already excludes a concurrent
    promotion) until the transaction ends, so the answer stays true while it writes."""
    stmt = sa.select(assets.c.id, assets.c.state).where(
        assets.c.id.in_(list(ids)), assets.c.kind == "model_version").order_by(assets.c.id)
    if lock:
        stmt = stmt.with_for_update(read=True)
    return [r.id for r in conn.execute(stmt) if r.state == PRODUCTION]


def _out(row: Any) -> LineageChange:
    def ref(prefix: str) -> str:
        m = row._mapping
        return format_ref(m[f"{prefix}_kind"], m[f"{prefix}_namespace"], m[f"{prefix}_name"],
                          m[f"{prefix}_version"])

    return LineageChange(
        id=row.id, ref=ref("v"), op=row.op, source=ref("s"), relation=row.relation,
        target=ref("t"), properties=row.properties or {}, status=row.status,
        requested_by=row.requested_by, requested_at=row.requested_at,
        decided_by=row.decided_by, decided_at=row.decided_at, comment=row.comment)


def _decision(body: LineageDecision | Mapping[str, Any] | None) -> LineageDecision:
    if body is None:
        return LineageDecision()
    try:
        return body if isinstance(body, LineageDecision) else \
            LineageDecision.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _missing(change_id: int) -> NotFound:
    return NotFound(f"lineage change {change_id} does not exist",
                    errors=[FieldError("/id", "no such lineage change")])


class LineageChangeService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def _edge_ends(self, tx: WriteTx, principal: Principal | None, source: Ref,
                       target: Ref) -> tuple[int, int]: ...

    # the gate (called by add_relation and remove_relation) ------------------------------
    def lineage_gated(self, principal: Principal | None, relation: str, source: Ref,
                      target: Ref) -> bool:
        """Whether this edge change must be requested rather than applied: a gated
        relation with a model version in production at either end."""
        if not _gated(principal, relation, source, target):
            return False
        with self.db.read() as conn:
            ids = [i for ref in (source, target) if ref.kind == "model_version"
                   and (i := q.find_id(conn, ref)) is not None]
            return bool(ids) and bool(production_ends(conn, ids))

    def check_ungated(self, tx: WriteTx, principal: Principal | None, relation: str,
                      ends: Ends) -> None:
        """In a direct edge change's transaction: still no production version at either
        end (a promotion between the gate and the write is answered 409, and a retry then
        becomes a request)."""
        (source_id, source), (target_id, target) = ends
        if _gated(principal, relation, source, target) and production_ends(
                tx.conn, [source_id, target_id], lock=True):
            raise Conflict(f"{source} {relation} {target} now touches a version in "
                           "production: send the change again to request its approval")

    def request_lineage_change(
        self, op: Op, source: Ref, relation: str, target: Ref,
        properties: dict[str, Any] | None = None, *, actor: str | None = None,
        principal: Principal | None = None,
    ) -> LineageChange:
        """Record a pending change of a production version's lineage (the same rights as
        the change itself: both ends readable, ``relation.add`` or ``relation.remove`` in
        the source's namespace). An identical pending request is answered, not repeated."""
        action = "relation.add" if op == "add" else "relation.remove"
        caller = self._caller(principal)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            ids = self._edge_ends(tx, principal, source, target)
            self.check_access(tx.conn, principal, action, source.namespace,
                              Target(ref=str(source), kind=source.kind))
            check_edge(relation, source.kind, target.kind)
            production = production_ends(tx.conn, ids, lock=True)
            if not production:
                raise Conflict(f"{source} {relation} {target} no longer touches a version "
                               "in production: send the change again to apply it")
            _check_edge_state(tx.conn, op, ids, relation, f"{source} {relation} {target}")
            key = {"op": op, "source_id": ids[0], "relation": relation, "target_id": ids[1],
                   "status": "pending"}
            pending = tx.conn.execute(_SELECT.where(
                *(lineage_changes.c[k] == v for k, v in key.items()))).first()
            if pending is not None:
                return _out(pending)
            version = source if production[0] == ids[0] else target
            props = properties if op == "add" and properties else {}
            inserted = tx.conn.execute(lineage_changes.insert().values(
                asset_id=production[0], properties=props, requested_by=caller.person,
                requested_at=tx.now, comment="", **key)).inserted_primary_key
            change_id = int(inserted[0]) if inserted else 0
            payload = {"id": change_id, **relation_payload(str(source), relation,
                                                           str(target), props), "op": op}
            tx.emit(Action.LINEAGE_CHANGE_REQUESTED, str(version), payload, production[0])
            return _out(tx.conn.execute(_SELECT.where(lineage_changes.c.id == change_id)).one())

    # reading ----------------------------------------------------------------------------
    def lineage_changes(
        self, *, namespace: str | None = None, status: str | None = None,
        cursor: str | None = None, limit: int = 50, principal: Principal | None = None,
    ) -> Page[LineageChange]:
        """Change requests, oldest first, of versions (and with ends) the caller may read;
        naming a namespace needs ``asset.read`` there."""
        if status is not None and status not in STATUSES:
            raise InvalidInput.at("/status", f"one of {', '.join(STATUSES)}")
        check_limit(limit, self.settings.page_limit_max)
        stmt = _SELECT
        if namespace is not None:
            check_namespace(namespace)
            self.authorize(principal, "asset.read", namespace, ref=f"namespace:{namespace}")
            stmt = stmt.where(_V.c.namespace == namespace)
        if status is not None:
            stmt = stmt.where(lineage_changes.c.status == status)
        after = decode_cursor(cursor)
        if after is not None:
            stmt = stmt.where(lineage_changes.c.id > after)
        for table in (_V, _S, _T):
            visible = self._visible(principal, table)
            if visible is not None:
                stmt = stmt.where(visible)
        with self.db.read() as conn:
            rows = conn.execute(stmt.order_by(lineage_changes.c.id).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=[_out(r) for r in rows],
                    next_cursor=encode_cursor(rows[-1].id) if more and rows else None)

    def lineage_change(self, change_id: int, *,
                       principal: Principal | None = None) -> LineageChange:
        stmt = _SELECT.where(lineage_changes.c.id == change_id)
        for table in (_V, _S, _T):
            visible = self._visible(principal, table)
            if visible is not None:
                stmt = stmt.where(visible)
        with self.db.read() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            raise _missing(change_id)
        return _out(row)

    # deciding ---------------------------------------------------------------------------
    def approve_lineage_change(
        self, change_id: int, body: LineageDecision | Mapping[str, Any] | None = None, *,
        actor: str | None = None, principal: Principal | None = None,
    ) -> LineageChange:
        """Apply a pending change (``lineage.approve``, maintainer of the version's
        namespace, not its requester) in this transaction."""
        return self._decide(change_id, _decision(body), "applied", principal, actor)

    def reject_lineage_change(
        self, change_id: int, body: LineageDecision | Mapping[str, Any] | None = None, *,
        actor: str | None = None, principal: Principal | None = None,
    ) -> LineageChange:
        """Close a pending change without applying it (the same right as approving)."""
        return self._decide(change_id, _decision(body), "rejected", principal, actor)

    def _decide(self, change_id: int, decision: LineageDecision, status: str,
                principal: Principal | None, actor: str | None) -> LineageChange:
        caller = self._caller(principal)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            row = tx.conn.execute(_SELECT.where(lineage_changes.c.id == change_id)
                                  .with_for_update(of=lineage_changes)).first()
            if row is None:
                raise _missing(change_id)
            change = _out(row)
            version = Ref.parse(change.ref)
            check_read(self.check_access, tx.conn, principal, version,
                       tags_of(tx.conn, row.asset_id), "/id")
            target = Target(ref=change.ref, kind="model_version")
            made = self.check_access(tx.conn, principal, DECIDE, version.namespace, target)
            if change.status != "pending":
                raise Conflict(f"lineage change {change_id} is {change.status} already",
                               errors=[FieldError("/id", change.status)])
            if caller.person == change.requested_by:
                raise AccessDenied(caller, Decision(
                    False, DECIDE, version.namespace,
                    f"{caller.person} requested lineage change {change_id}: another "
                    "maintainer must decide it", Role.MAINTAINER, made.role), target)
            if status == "applied":
                _apply(tx, change, (row.source_id, row.target_id))
            tx.conn.execute(lineage_changes.update()
                            .where(lineage_changes.c.id == change_id)
                            .values(status=status, decided_by=caller.person,
                                    decided_at=tx.now, comment=decision.comment))
            action = (Action.LINEAGE_CHANGE_APPLIED if status == "applied"
                      else Action.LINEAGE_CHANGE_REJECTED)
            tx.emit(action, change.ref, {
                "id": change_id, "op": change.op, "source": change.source,
                "relation": change.relation, "target": change.target,
                "requested_by": change.requested_by, "comment": decision.comment,
            }, row.asset_id)
            return change.model_copy(update={"status": status, "decided_by": caller.person,
                                              "decided_at": tx.now,
                                              "comment": decision.comment})


def _check_edge_state(conn: Connection, op: Op, ids: tuple[int, int] | list[int],
                      relation: str, label: str) -> None:
    """An addition of an edge that exists, or a removal of one that does not, is refused
    when it is requested (and again when it would be applied)."""
    exists = conn.execute(sa.select(relations.c.id).where(
        relations.c.source_id == ids[0], relations.c.relation == relation,
        relations.c.target_id == ids[1])).first() is not None
    if op == "add" and exists:
        raise AlreadyExists(f"{label} already exists")
    if op == "remove" and not exists:
        raise NotFound(f"{label} does not exist")


def _apply(tx: WriteTx, change: LineageChange, ids: tuple[int, int]) -> None:
    source, target = Ref.parse(change.source), Ref.parse(change.target)
    label = f"{change.source} {change.relation} {change.target}"
    try:
        _check_edge_state(tx.conn, change.op, ids, change.relation, label)
    except (AlreadyExists, NotFound) as exc:
        raise Conflict(f"{exc.detail} now: reject lineage change {change.id} instead",
                       errors=[FieldError("/id", "cannot be applied")]) from None
    if change.op == "add":
        tx.link((ids[0], source), change.relation, (ids[1], target), change.properties)
        after_link(tx, ids[0], source)  # as add_relation: an evaluation may clear marks
        return
    tx.conn.execute(relations.delete().where(
        relations.c.source_id == ids[0], relations.c.relation == change.relation,
        relations.c.target_id == ids[1]))
    tx.emit(Action.RELATION_REMOVED, change.source,
            {"source": change.source, "relation": change.relation, "target": change.target},
            ids[0])
