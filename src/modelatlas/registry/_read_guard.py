"""One asset's read check for the operations that answer about a named asset (its
requirements, its attestations, its manifest, its provenance, what a change to it breaks).

An asset the caller may not read is answered exactly as a missing one: a 404 naming the
same field, so the refusal does not confirm it exists; the attempt is still recorded
(:meth:`AccessService.authorize_read`). The local user (``principal`` None or local) costs
nothing: no query, as before access control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from modelatlas.errors import FieldError, NotFound
from modelatlas.governance.grants import Readable, readable_clause
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from modelatlas.store.engine import Database

_TAGS_BY_REF = q._by_ref(assets.c.tags)
_CHUNK = 500


class Guarded(Protocol):
    """What the check needs of the service (the :class:`Registry` is one)."""

    @property
    def db(self) -> Database: ...

    def authorize_read(self, principal: Principal | None, ref: str, namespace: str,
                       kind: str, tags: Iterable[str] = ()) -> None: ...


def is_local(principal: Principal | None) -> bool:
    return principal is None or principal.is_local


def missing(ref: Ref | str, path: str) -> NotFound:
    """The 404 of an asset that does not exist, which an unreadable one also gets."""
    return NotFound(f"{ref} does not exist", errors=[FieldError(path, "no such asset")])


def require_readable(service: Guarded, principal: Principal | None, ref: Ref,
                     path: str = "/ref") -> None:
    """Pass when the caller may read ``ref``; else 404 (missing or unreadable alike). Runs
    in a read of its own before the operation's (the operation then reads the asset by
    its key as it did; only a concurrent delete falls between, and it answers 404)."""
    if is_local(principal):
        return
    with service.db.read() as conn:
        tags = conn.execute(_TAGS_BY_REF, q.ref_params(ref)).first()
    if tags is None:
        raise missing(ref, path)
    try:
        service.authorize_read(principal, str(ref), ref.namespace, ref.kind, tags[0] or ())
    except NotFound:
        raise missing(ref, path) from None


def unreadable_ids(conn: Connection, readable: Readable, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` the caller may not read, asked of the database in chunks (the same
    predicate as search and lineage: :func:`readable_clause`)."""
    wanted = sorted(set(ids))
    if readable.everything or not wanted:
        return set()
    seen: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        seen.update(conn.execute(sa.select(assets.c.id).where(
            assets.c.id.in_(chunk), readable_clause(readable, assets))).scalars())
    return set(wanted) - seen
