"""Withdrawing a dataset version (corrupt, legally withdrawn), mixed into :class:`Registry`.

One write transaction: the version's state becomes ``withdrawn`` (an ``asset.updated``
event, as any state change), a ``dataset.withdrawn`` event records who, why and when and
counts what lies downstream per kind, and every dataset, feature, model version,
evaluation and deployment within ``depth`` hops downstream (found by the lineage walk,
:func:`modelatlas.lineage.walk`) gets a revalidation mark whose cause is the dataset's
ref (:func:`._revalidation.mark`, one ``revalidation.needed`` event each). The withdrawal
is read back from that event and those marks, so no table of its own is needed.

Withdrawing again is a no-op answering the first withdrawal (``already_withdrawn``). The
``withdrawn`` state is only set here and never left: a PATCH to or from it is refused, and
so is registering a model version trained on a withdrawn version unless the registration
says ``allow_withdrawn``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas import lineage
from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.grants import readable_clause
from modelatlas.governance.policy import Target
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import check_read, hidden_as_missing
from modelatlas.registry._impact_graph import NODE_COLUMNS, Node, node_of
from modelatlas.registry._revalidation import mark
from modelatlas.registry._rows import (
    check_limit,
    decode_cursor,
    encode_cursor,
    format_ref,
)
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx, snapshot_of
from modelatlas.registry.lineage_types import KindCount
from modelatlas.registry.withdrawal_types import (
    MARKED_KINDS,
    Category,
    Withdrawal,
    WithdrawalRequest,
    WithdrawnAsset,
)
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import assets, events, revalidation_marks

WITHDRAWN = "withdrawn"
MAX_AFFECTED = 100_000  # one transaction marks them all; beyond this, refuse rather than time out
FIRST_PAGE = 100


def check_state_write(kind: str, before: str | None, after: str, path: str = "/state") -> None:
    """Only :meth:`WithdrawalService.withdraw` sets ``withdrawn`` (it records why and marks
    what depends on the data), and nothing takes a version out of it."""
    if kind != "dataset" or before == after:
        return
    if after == WITHDRAWN:
        raise InvalidInput.at(path, "withdraw a dataset version with POST "
                              "/datasets/{ref}/withdraw (modelatlas lineage withdraw)")
    if before == WITHDRAWN:
        raise InvalidInput.at(path, "a withdrawn dataset version stays withdrawn: "
                              "register a corrected version instead")


# the withdrawn dataset versions among some ids: every registration with inputs asks
_WITHDRAWN_AMONG = Prepared(sa.select(assets.c.id).where(
    assets.c.id.in_(sa.bindparam("ids", expanding=True)), assets.c.kind == "dataset",
    assets.c.state == WITHDRAWN))


def refuse_withdrawn(tx: WriteTx, inputs: Sequence[tuple[str, int]]) -> None:
    """Refuse training inputs (``(path, asset id)``) that are withdrawn dataset versions."""
    ids = [asset_id for _, asset_id in inputs]
    if not ids:
        return
    withdrawn = {row[0] for row in _WITHDRAWN_AMONG.all(tx.conn, {"ids": ids})}
    errors = [FieldError(path, "this dataset version was withdrawn")
              for path, asset_id in inputs if asset_id in withdrawn]
    if errors:
        raise InvalidInput(
            f"{errors[0].path}: trained on a withdrawn dataset version; register with "
            "allow_withdrawn to record it anyway", errors=errors)


def _parse(reason: str, category: str, depth: int) -> WithdrawalRequest:
    try:
        request = WithdrawalRequest.model_validate(
            {"reason": reason.strip() if isinstance(reason, str) else reason,
             "category": category, "depth": depth})
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc, lead="the withdrawal is not valid: ") from None
    return request


def _dataset_ref(ref: str | Ref) -> Ref:
    parsed = Ref.coerce(ref, path="/ref")
    if parsed.kind != "dataset":
        raise InvalidInput.at("/ref", f"only a dataset version can be withdrawn, not a "
                                      f"{parsed.kind}")
    return parsed


def _stored(conn: Connection, asset_id: int) -> Any:
    """The latest ``dataset.withdrawn`` event of the asset, or None."""
    return conn.execute(
        sa.select(events.c.seq, events.c.time, events.c.actor, events.c.payload)
        .where(events.c.asset_id == asset_id,
               events.c.action == str(Action.DATASET_WITHDRAWN))
        .order_by(events.c.seq.desc()).limit(1)
    ).first()


def _downstream(conn: Connection, root_id: int, depth: int) -> list[lineage.Reached]:
    spec = lineage.WalkSpec(root_id=root_id, direction="downstream", depth=depth,
                            limit=MAX_AFFECTED + 1)
    found = lineage.walk(conn, spec)
    if found.truncated:
        raise InvalidInput.at("/depth", f"more than {MAX_AFFECTED} assets lie downstream "
                                        "within this depth: withdraw with a smaller depth")
    return [n for n in found.nodes if n.id != root_id]


def _set_withdrawn(tx: WriteTx, ref: Ref, row: Any) -> None:
    """The state change, written and recorded as every other state change is."""
    values = {"state": WITHDRAWN, "revision": row.revision + 1, "updated_at": tx.now,
              "updated_by": tx.actor}
    tx.conn.execute(assets.update().where(assets.c.id == row.id).values(values))
    current = {**row._asdict(), **values}
    payload = snapshot_of(str(ref), current)
    payload["changed"] = ["state"]
    tx.emit(Action.ASSET_UPDATED, str(ref), payload, row.id)


def _counts(counter: Counter[str]) -> list[KindCount]:
    return [KindCount(kind=k, count=n) for k, n in sorted(counter.items())]


def _page(conn: Connection, cause: str, cursor: str | None, limit: int,
          visible: ColumnElement[bool] | None = None) -> tuple[list[WithdrawnAsset], str | None]:
    """The marks whose cause is ``cause``, in the order they were made (nearest first),
    on assets the caller may read (``visible``)."""
    after = decode_cursor(cursor)
    stmt = (
        sa.select(revalidation_marks.c.event_seq, *NODE_COLUMNS)
        .join(assets, assets.c.id == revalidation_marks.c.asset_id)
        .where(revalidation_marks.c.cause_ref == cause)
        .order_by(revalidation_marks.c.event_seq).limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(revalidation_marks.c.event_seq > after)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = conn.execute(stmt).all()
    items = [WithdrawnAsset(ref=node_of(r).ref, kind=r.kind, state=r.state,
                            event_seq=int(r.event_seq)) for r in rows[:limit]]
    more = len(rows) > limit and bool(items)
    return items, encode_cursor(items[-1].event_seq) if more else None


def _answer(conn: Connection, ref: Ref, stored: Any, *, cursor: str | None, limit: int,
            already: bool, visible: ColumnElement[bool] | None = None) -> Withdrawal:
    payload = json.loads(stored.payload)
    items, next_cursor = _page(conn, str(ref), cursor, limit, visible)
    return Withdrawal(
        ref=str(ref), reason=payload["reason"], category=payload["category"],
        depth=payload["depth"], withdrawn_at=stored.time, withdrawn_by=stored.actor,
        event_seq=int(stored.seq), already_withdrawn=already,
        affected=_counts(Counter(payload["affected"])),
        marked=_counts(Counter(payload["marked"])),
        items=items, next_cursor=next_cursor,
    )


def _withdraw(tx: WriteTx, ref: Ref, request: WithdrawalRequest) -> Withdrawal:
    # FOR UPDATE: a concurrent withdrawal of the same version waits, then sees it withdrawn
    row = tx.conn.execute(
        sa.select(assets).where(assets.c.id == tx.require_id(ref, "/ref")).with_for_update()
    ).one()
    stored = _stored(tx.conn, row.id)
    if stored is not None:
        return _answer(tx.conn, ref, stored, cursor=None, limit=FIRST_PAGE, already=True)
    reached = _downstream(tx.conn, row.id, request.depth)
    marked = [n for n in reached if n.kind in MARKED_KINDS]
    if row.state != WITHDRAWN:
        _set_withdrawn(tx, ref, row)
    payload = {
        "ref": str(ref), "reason": request.reason, "category": request.category,
        "depth": request.depth, "affected": dict(sorted(Counter(n.kind for n in reached)
                                                        .items())),
        "marked": dict(sorted(Counter(n.kind for n in marked).items())),
    }
    tx.emit_now(Action.DATASET_WITHDRAWN, str(ref), payload, row.id)
    why = f"{ref} was withdrawn ({request.category}): {request.reason}"
    for node in marked:  # nearest first: the marks' events keep that order for paging
        mark(tx, Node(node.id, node.kind,
                      format_ref(node.kind, node.namespace, node.name, node.version),
                      node.state), str(ref), why)
    stored = _stored(tx.conn, row.id)
    return _answer(tx.conn, ref, stored, cursor=None, limit=FIRST_PAGE, already=False)


class WithdrawalService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def withdraw(
        self,
        ref: str | Ref,
        *,
        reason: str,
        category: Category = "other",
        depth: int = 10,
        actor: str | None = None,
        principal: Principal | None = None,
    ) -> Withdrawal:
        """Withdraw a dataset version and mark what depends on it, in one transaction
        (see the module docstring). Anything but a dataset is refused (422 at ``/ref``);
        a version withdrawn before answers its first withdrawal and changes nothing.
        Needs ``dataset.withdraw`` (maintainer) in the dataset's namespace; what it marks
        downstream is marked in every namespace, since the flag is the point."""
        parsed = _dataset_ref(ref)
        request = _parse(reason, category, depth)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            if principal is not None and not principal.is_local:
                stored = q.get_asset(tx.conn, parsed)
                check_read(self.check_access, tx.conn, principal, parsed,
                           frozenset(stored.tags))
                self.check_access(tx.conn, principal, "dataset.withdraw", parsed.namespace,
                                  Target(ref=str(parsed), kind=parsed.kind))
            return _withdraw(tx, parsed, request)

    def withdrawal(
        self, ref: str | Ref, *, cursor: str | None = None, limit: int = FIRST_PAGE,
        principal: Principal | None = None,
    ) -> Withdrawal:
        """How a dataset version was withdrawn and one page of the assets it marked that
        are still marked and the caller may read (404 when it was not withdrawn, or the
        caller may not read the dataset). The counts are the withdrawal's own record."""
        parsed = _dataset_ref(ref)
        check_limit(limit, self.settings.page_limit_max)
        visible = None
        if principal is not None and not principal.is_local:
            visible = readable_clause(self.readable(principal), assets)
        with self.db.read() as conn:
            asset = q.get_asset(conn, parsed)
        self.authorize_read(principal, asset.ref, asset.namespace, asset.kind, asset.tags)
        with self.db.read() as conn:
            stored = _stored(conn, q.require_id(conn, parsed))
            if stored is None:
                raise NotFound(f"{parsed} was not withdrawn",
                               errors=[FieldError("/ref", "not withdrawn")])
            return _answer(conn, parsed, stored, cursor=cursor, limit=limit, already=False,
                           visible=visible)
