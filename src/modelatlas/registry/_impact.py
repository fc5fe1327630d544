"""The service layer's impact analysis and revalidation marks, mixed into
:class:`Registry`.

``impact(change)`` answers what a change would break (:mod:`._impact_analysis`);
``revalidation_marks`` lists the deployed versions whose dependencies changed since they
were validated (marked and cleared by :mod:`._revalidation`, inside the writes that cause
them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.governance.grants import readable_clause
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import (
    is_local,
    missing,
    require_readable,
    unreadable_ids,
)
from modelatlas.registry._impact_analysis import asset_impact, package_impact, schema_impact
from modelatlas.registry._impact_graph import NODE_COLUMNS, Collector, node_of
from modelatlas.registry._rows import check_limit, decode_cursor, encode_cursor
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.impact_types import ImpactChange, ImpactReport, RevalidationMark
from modelatlas.registry.types import Page
from modelatlas.store.tables import assets, revalidation_marks

_SHAPES = "environment + package + to, asset, or schema + fields"


class ImpactService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def impact(self, change: ImpactChange | Mapping[str, Any], *,
               principal: Principal | None = None) -> ImpactReport:
        """What ``change`` would break: affected model versions, deployments and the data
        the change travels through, each with its reasons (see :class:`ImpactChange`).
        The changed asset must be readable (else 404, as if missing); affected assets the
        caller may not read are left out of the lists and counted in ``hidden``."""
        change = _parse_change(change)
        self._require_subject_readable(principal, change)
        readable = None if is_local(principal) else self.readable(principal)
        with self.db.read() as conn:
            collector = Collector()
            if readable is not None and not readable.everything:
                seen = readable
                collector.unreadable = lambda ids: unreadable_ids(conn, seen, ids)
            if change.environment is not None:
                return package_impact(conn, change, collector=collector)
            if change.asset is not None:
                return asset_impact(conn, change, collector=collector)
            return schema_impact(conn, change, collector=collector)

    def _require_subject_readable(self, principal: Principal | None,
                                  change: ImpactChange) -> None:
        if is_local(principal):
            return
        if change.environment is not None:
            require_readable(self, principal, Ref.parse(change.environment,
                                                        path="/environment"), "/environment")
        elif change.asset is not None:
            require_readable(self, principal, Ref.parse(change.asset, path="/asset"), "/asset")
        elif change.schema_ref is not None:  # a proposed version: its series' namespace
            ref = Ref.parse(change.schema_ref, path="/schema")
            try:
                self.authorize_read(principal, str(ref), ref.namespace, ref.kind)
            except NotFound:
                raise missing(ref, "/schema") from None

    def revalidation_marks(
        self, ref: str | Ref | None = None, *, cursor: str | None = None, limit: int = 100,
        principal: Principal | None = None,
    ) -> Page[RevalidationMark]:
        """Open revalidation marks, oldest first; with ``ref``, that asset's only. Marks
        of assets the caller may not read are left out in the query (the cursor is the
        event sequence, so pages stay right)."""
        check_limit(limit, self.settings.page_limit_max)
        after = decode_cursor(cursor)
        parsed = None if ref is None else Ref.coerce(ref, path="/ref")
        if parsed is not None:
            require_readable(self, principal, parsed)
        readable = None if is_local(principal) else self.readable(principal)
        with self.db.read() as conn:
            stmt = (
                sa.select(revalidation_marks, *NODE_COLUMNS)
                .join(assets, assets.c.id == revalidation_marks.c.asset_id)
                .order_by(revalidation_marks.c.event_seq)
                .limit(limit + 1)
            )
            if readable is not None and not readable.everything:
                stmt = stmt.where(readable_clause(readable, assets))
            if parsed is not None:
                stmt = stmt.where(revalidation_marks.c.asset_id == q.require_id(conn, parsed))
            if after is not None:
                stmt = stmt.where(revalidation_marks.c.event_seq > after)
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        items = [
            RevalidationMark(ref=node_of(r).ref, cause=r.cause_ref, reason=r.reason,
                             event_seq=r.event_seq, marked_at=r.marked_at)
            for r in rows[:limit]
        ]
        return Page(items=items,
                    next_cursor=encode_cursor(items[-1].event_seq) if more and items else None)


def _parse_change(change: ImpactChange | Mapping[str, Any]) -> ImpactChange:
    if not isinstance(change, ImpactChange):
        try:
            change = ImpactChange.model_validate(change)
        except ValidationError as exc:
            raise InvalidInput.from_validation(exc, lead="the change is not valid: ") from None
    given = [name for name, value in (("environment", change.environment),
                                      ("asset", change.asset),
                                      ("schema", change.schema_ref)) if value is not None]
    if len(given) != 1:
        where = f"/{given[1]}" if len(given) > 1 else "/"
        raise InvalidInput(f"describe one change: {_SHAPES}",
                           errors=[FieldError(where, f"one of {_SHAPES}")])
    return change

