"""A caller's read rights in the two forms the search package takes
(:mod:`modelatlas.search.visibility`), built from governance's :class:`Readable`.

The rule itself is :func:`modelatlas.governance.grants.readable_clause`; search, facets
and related assets use it as it is. Suggest's statements are built once and reused for
every keystroke, so they take the same rule written with named bound parameters
(:data:`BOUND_READABLE`); tests/governance/test_gov_wire_search_rules.py checks that both
forms keep the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.governance.grants import Readable, readable_clause, readable_for
from modelatlas.governance.policy import PROMOTED_TAG
from modelatlas.governance.principal import Principal
from modelatlas.search.visibility import BoundVisibility, Visible
from modelatlas.store.tables import asset_tags

EVERYTHING = Readable(everything=True)


def readable_in(conn: Connection, principal: Principal | None) -> Readable:
    """What the caller may read, read on ``conn`` (the operation's own snapshot). The local
    user (``None``) costs no query."""
    if principal is None or principal.is_local:
        return EVERYTHING
    return readable_for(conn, principal)


def visible_to(readable: Readable) -> Visible | None:
    """The per-call form; None when the caller may read everything (no SQL added)."""
    return None if readable.everything else partial(_clause, readable)


def _clause(readable: Readable, table: Any) -> ColumnElement[bool]:
    return readable_clause(readable, table)


@dataclass(frozen=True)
class _BoundReadable:
    """``readable_clause`` with the caller's namespaces as expanding bound parameters:
    ``read_everywhere`` (bool), ``read_full`` and ``read_promoted`` (lists), and
    ``read_promoted_out``, the same list as ``read_promoted`` for the NOT IN: SQLAlchemy
    renders an empty expanding list once per name, and PostgreSQL's empty IN form
    (``IN (NULL) AND 1 != 1``) under NOT is false, not true."""

    def assets(self, table: Any) -> ColumnElement[bool]:
        ns = table.c.namespace
        promoted = sa.bindparam("read_promoted", expanding=True, type_=sa.String)
        whole = sa.or_(
            sa.and_(sa.bindparam("read_everywhere", type_=sa.Boolean), ns.not_in(
                sa.bindparam("read_promoted_out", expanding=True, type_=sa.String))),
            ns.in_(sa.bindparam("read_full", expanding=True, type_=sa.String)))
        promoted_ids = sa.select(asset_tags.c.asset_id).where(asset_tags.c.tag == PROMOTED_TAG)
        restricted = sa.and_(ns.in_(promoted), sa.or_(table.c.kind != "model_version",
                                                       table.c.id.in_(promoted_ids)))
        return sa.or_(whole, restricted)

    def namespaces(self, column: Any) -> ColumnElement[bool]:
        # in a promoted-only namespace everything but unpromoted versions is readable
        return sa.or_(sa.bindparam("read_everywhere", type_=sa.Boolean),
                      column.in_(sa.bindparam("read_full", expanding=True, type_=sa.String)),
                      column.in_(sa.bindparam("read_promoted", expanding=True,
                                              type_=sa.String)))


BOUND_READABLE = _BoundReadable()


def bound_visibility(readable: Readable) -> BoundVisibility | None:
    """The prebuilt-statement form; None when the caller may read everything."""
    if readable.everything:
        return None
    promoted = sorted(readable.promoted)
    return BoundVisibility(BOUND_READABLE, {
        "read_everywhere": readable.everywhere, "read_full": sorted(readable.full),
        "read_promoted": promoted, "read_promoted_out": promoted})
