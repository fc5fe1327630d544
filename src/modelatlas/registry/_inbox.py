"""The approvals inbox as one SQL query: the open promotion requests a caller may review.

"May review" is the caller's role (the least role ``approval.give`` needs) in the version's
namespace, or registry-wide, and the namespace's read rule; both are conditions of the
query, so a page of the inbox costs one indexed statement however many teams there are.
Separation of duties is not a filter here: an author sees their own request, marked, since
hiding it would leave them wondering where it went (the service refuses their approval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.governance import lifecycle as lc
from modelatlas.governance.grants import EVERYWHERE, Readable, readable_clause
from modelatlas.governance.roles import action
from modelatlas.store.tables import assets, reviews

# a request is answered by a stage change; these stages cannot be promoted any more
_SETTLED = (lc.PRODUCTION, lc.ARCHIVED, lc.DEPRECATED)


@dataclass(frozen=True, slots=True)
class Reviewable:
    """Where the caller may approve: everywhere (the local user, a registry-wide
    maintainer) or in ``namespaces``."""

    everywhere: bool
    namespaces: frozenset[str]


def reviewable(readable: Readable) -> Reviewable:
    if readable.everything and not readable.roles:
        return Reviewable(True, frozenset())  # the local user: no grants, every right
    needed = action("approval.give").role
    held = {ns for ns, role in readable.roles.items() if role.covers(needed)}
    return Reviewable(EVERYWHERE in held, frozenset(held - {EVERYWHERE}))


def open_requests(conn: Connection, readable: Readable, where: Reviewable, *,
                  namespace: str | None, before: int | None, limit: int) -> Sequence[Any]:
    """Up to ``limit + 1`` open requests, newest first, with their version's row fields
    (``asset_id``, ``namespace``, ``name``, ``version``, ``state``, ``created_by``)."""
    query = (
        sa.select(reviews.c.id, reviews.c.person, reviews.c.body, reviews.c.stage,
                  reviews.c.manifest_sha256, reviews.c.created_at,
                  assets.c.id.label("asset_id"), assets.c.namespace, assets.c.name,
                  assets.c.version, assets.c.state, assets.c.created_by)
        .select_from(reviews.join(assets, assets.c.id == reviews.c.asset_id))
        .where(reviews.c.kind == lc.REQUEST, reviews.c.closed_at.is_(None),
               assets.c.kind == "model_version", assets.c.state.not_in(_SETTLED),
               readable_clause(readable, assets))
    )
    if not where.everywhere:
        query = query.where(assets.c.namespace.in_(sorted(where.namespaces)))
    if namespace is not None:
        query = query.where(assets.c.namespace == namespace)
    if before is not None:
        query = query.where(reviews.c.id < before)
    return conn.execute(query.order_by(reviews.c.id.desc()).limit(limit + 1)).all()
