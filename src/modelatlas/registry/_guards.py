"""Access checks on named assets, in one place.

An asset the caller may not read is answered exactly as a missing one: a 404 naming the
same field, so the refusal does not confirm it exists; the attempt is still recorded
(:meth:`AccessService.authorize_read`). The local user (``principal`` None or local) costs
nothing: no query, as before access control.

- Before an operation's own read (its requirements, attestations, manifest, provenance,
  what a change to it breaks): :func:`require_readable`; many at once: :func:`unreadable_ids`.
- Inside a write transaction, when the check needs the stored row (its tags, whether a
  version is registered, which fields a patch really changes, the inputs a registration or
  a run names): raise :class:`HiddenDenied` in the transaction and wrap it, outermost
  first, in ``hidden_as_missing()`` then ``self.denials_recorded()``, so the denial is
  recorded once the refused transaction is gone and then turned into the 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import FieldError, NotFound
from modelatlas.governance.grants import EVERYWHERE, Readable, readable_clause
from modelatlas.governance.policy import PROMOTED_TAG, AccessDenied, Target
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Scope, action, scope_allows
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry.types import Asset
from modelatlas.store.tables import asset_tags, assets

if TYPE_CHECKING:
    from modelatlas.store.engine import Database

# check(conn, principal, action, namespace, target): raises AccessDenied (AccessService)
Check = Callable[[Connection, Principal | None, str, str, Target], Any]
# guard(ref, asset id or None when it is about to be created, path of the input)
Guard = Callable[[Ref, int | None, str], None]

VERSION_KINDS = frozenset({"model_version"})
# A patch's field names and the ``values`` keys update_asset writes them under.
_PATCHED = {"description": "description", "owners": "owners", "tags": "tags",
            "metadata": "meta", "custom": "custom", "state": "state", "digests": "digests"}


class HiddenDenied(AccessDenied):
    """A refused read inside a write, answered as a missing asset at ``path``."""

    def __init__(self, denied: AccessDenied, path: str) -> None:
        super().__init__(denied.principal, denied.decision, denied.target)
        self.path = path


@contextmanager
def hidden_as_missing() -> Iterator[None]:
    """Turn a (recorded) :class:`HiddenDenied` into the 404 a missing asset gets."""
    try:
        yield
    except HiddenDenied as denied:
        raise missing(denied.target.ref or "the asset", denied.path) from None


def tags_of(conn: Connection, asset_id: int) -> frozenset[str]:
    return frozenset(conn.execute(sa.select(asset_tags.c.tag)
                                  .where(asset_tags.c.asset_id == asset_id)).scalars())


def check_read(check: Check, conn: Connection, principal: Principal | None, ref: Ref,
               tags: frozenset[str], path: str = "/ref") -> None:
    """The caller may read the stored asset ``ref``, or a :class:`HiddenDenied`."""
    if principal is None or principal.is_local:
        return  # the embedded user reads everything: no query
    try:
        check(conn, principal, "asset.read", ref.namespace,
              Target(ref=str(ref), kind=ref.kind, tags=tags))
    except AccessDenied as denied:
        raise HiddenDenied(denied, path) from None


def input_guard(check: Check, conn: Connection, principal: Principal | None) -> Guard | None:
    """What a registration or a run names besides its own asset: an existing input must be
    readable (else it is answered as missing), one described inline is created in its own
    namespace and needs ``asset.create`` there. ``None`` for the embedded user."""
    if principal is None or principal.is_local:
        return None

    def guard(ref: Ref, asset_id: int | None, path: str) -> None:
        if asset_id is None:
            check(conn, principal, "asset.create", ref.namespace,
                  Target(ref=str(ref), kind=ref.kind))
        else:
            check_read(check, conn, principal, ref, tags_of(conn, asset_id), path)

    return guard


def really_changed(current: Asset, values: dict[str, Any]) -> frozenset[str]:
    """The fields whose stored value an update changes (a patch restating a value changes
    nothing, so it is no attempt on an immutable field)."""
    before = {"description": current.description, "owners": current.owners,
              "tags": sorted(current.tags), "metadata": current.metadata,
              "custom": current.custom, "state": current.state, "digests": current.digests}
    after = {field: values[key] for field, key in _PATCHED.items()}
    after["tags"] = sorted(after["tags"])
    return frozenset(f for f in before if before[f] != after[f])


def promotes(kind: str, before: list[str] | frozenset[str],
             after: list[str] | frozenset[str]) -> bool:
    """Whether tags set or clear ``promoted`` on a version: that is a promotion
    (``stage.change``, maintainer), not a tag edit, since what readers below maintainer
    see in a promoted-only namespace turns on it."""
    return kind in VERSION_KINDS and (PROMOTED_TAG in before) != (PROMOTED_TAG in after)


def audited_namespaces(readable: Readable, principal: Principal) -> frozenset[str]:
    """The namespaces where the caller holds ``audit.read`` (a registry-wide grant that
    covers it makes ``readable.everything``, so it needs no name here)."""
    spec = action("audit.read")
    if not scope_allows(principal.scopes, Scope(spec.scope)):
        return frozenset()
    return frozenset(ns for ns, role in readable.roles.items()
                     if ns != EVERYWHERE and role.covers(spec.role))


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
