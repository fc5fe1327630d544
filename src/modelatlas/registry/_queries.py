"""Read queries. Each runs in the database with an index; nothing loads the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.errors import FieldError, NotFound
from modelatlas.governance.grants import Readable, readable_clause
from modelatlas.refs import Ref
from modelatlas.registry._rows import (
    asset_from_row,
    decode_cursor,
    encode_cursor,
    event_from_row,
    relation_from_row,
)
from modelatlas.registry.types import Asset, Event, Page, Relation
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import asset_tags, assets, events, relations

__all__ = [
    "asset_from_row",
    "events_after",
    "find_id",
    "get_asset",
    "history",
    "list_assets",
    "list_versions",
    "relations_of",
    "require_id",
    "visible_events",
]

# A WHERE condition keeping what the caller may read; None: no condition (the local user).
Visible = ColumnElement[bool] | None


def _by_ref(*columns: Any) -> sa.Select[Any]:
    return sa.select(*columns).where(
        assets.c.kind == sa.bindparam("kind"),
        assets.c.namespace == sa.bindparam("namespace"),
        assets.c.name == sa.bindparam("name"),
        assets.c.version == sa.bindparam("version"),
    )


# Built once: these run on every read and write path, and building a statement costs more
# than the indexed lookup itself.
ASSET_BY_REF = _by_ref(assets)
ID_BY_REF = Prepared(_by_ref(assets.c.id))


def ref_params(ref: Ref) -> dict[str, str]:
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name,
            "version": ref.version or ""}


def get_asset(conn: Connection, ref: Ref) -> Asset:
    row = conn.execute(ASSET_BY_REF, ref_params(ref)).first()
    if row is None:
        raise NotFound(f"{ref} does not exist", errors=[FieldError("/ref", "no such asset")])
    return asset_from_row(row)


def find_id(conn: Connection, ref: Ref) -> int | None:
    asset_id = ID_BY_REF.scalar(conn, ref_params(ref))
    return None if asset_id is None else int(asset_id)


def require_id(conn: Connection, ref: Ref, path: str = "/ref") -> int:
    asset_id = find_id(conn, ref)
    if asset_id is None:
        raise NotFound(f"{ref} does not exist", errors=[FieldError(path, "no such asset")])
    return asset_id


def _page(rows: list[Any], limit: int, key: str, build: Any) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(getattr(rows[-1], key)) if more and rows else None
    return Page(items=[build(r) for r in rows], next_cursor=cursor)


def list_assets(
    conn: Connection,
    *,
    kind: str | None,
    namespace: str | None,
    tag: str | None,
    cursor: str | None,
    limit: int,
    visible: Visible = None,
) -> Page[Asset]:
    stmt = sa.select(assets)
    if visible is not None:
        stmt = stmt.where(visible)
    if tag is not None:
        stmt = stmt.join(asset_tags, asset_tags.c.asset_id == assets.c.id).where(
            asset_tags.c.tag == tag
        )
    if kind is not None:
        stmt = stmt.where(assets.c.kind == kind)
    if namespace is not None:
        stmt = stmt.where(assets.c.namespace == namespace)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(assets.c.id > after)
    rows = list(conn.execute(stmt.order_by(assets.c.id).limit(limit + 1)))
    return _page(rows, limit, "id", asset_from_row)


def list_versions(conn: Connection, model: Ref, *, cursor: str | None, limit: int,
                  visible: Visible = None) -> Page[Asset]:
    stmt = sa.select(assets).where(
        assets.c.kind == "model_version",
        assets.c.namespace == model.namespace,
        assets.c.name == model.name,
    )
    if visible is not None:
        stmt = stmt.where(visible)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(assets.c.version_number > after)
    rows = list(conn.execute(stmt.order_by(assets.c.version_number).limit(limit + 1)))
    return _page(rows, limit, "version_number", asset_from_row)


def relations_of(
    conn: Connection,
    asset_id: int,
    *,
    direction: str,
    relation: str | None,
    cursor: str | None,
    limit: int,
    visible: Callable[[Any], Visible] | None = None,
) -> Page[Relation]:
    """``visible(alias)`` is the read condition over one end's ``assets`` alias."""
    source = assets.alias("s")
    target = assets.alias("t")
    stmt = sa.select(
        relations.c.id,
        relations.c.relation,
        relations.c.properties,
        relations.c.created_at,
        relations.c.created_by,
        source.c.kind.label("s_kind"),
        source.c.namespace.label("s_namespace"),
        source.c.name.label("s_name"),
        source.c.version.label("s_version"),
        target.c.kind.label("t_kind"),
        target.c.namespace.label("t_namespace"),
        target.c.name.label("t_name"),
        target.c.version.label("t_version"),
    ).select_from(
        relations.join(source, source.c.id == relations.c.source_id).join(
            target, target.c.id == relations.c.target_id
        )
    )
    if direction == "out":
        stmt = stmt.where(relations.c.source_id == asset_id)
    elif direction == "in":
        stmt = stmt.where(relations.c.target_id == asset_id)
    else:
        stmt = stmt.where(
            sa.or_(relations.c.source_id == asset_id, relations.c.target_id == asset_id)
        )
    if relation is not None:
        stmt = stmt.where(relations.c.relation == relation)
    for end in (source, target):
        condition = visible(end) if visible is not None else None
        if condition is not None:
            stmt = stmt.where(condition)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(relations.c.id > after)
    rows = list(conn.execute(stmt.order_by(relations.c.id).limit(limit + 1)))
    return _page(rows, limit, "id", relation_from_row)


def history(conn: Connection, asset_id: int, *, cursor: str | None, limit: int) -> Page[Event]:
    stmt = sa.select(events).where(events.c.asset_id == asset_id)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(events.c.seq > after)
    rows = list(conn.execute(stmt.order_by(events.c.seq).limit(limit + 1)))
    return _page(rows, limit, "seq", event_from_row)


def visible_events(readable: Readable, *, audited: Iterable[str]) -> Visible:
    """Events of assets the caller may read, and events about no stored asset (grants,
    policies, schemas, denials) in the ``audited`` namespaces; refs name their namespace
    as ``kind:namespace/...`` or ``namespace:namespace``."""
    if readable.everything:
        return None
    about_asset = sa.and_(events.c.asset_id.is_not(None), readable_clause(readable, assets))
    audit = [
        sa.or_(events.c.ref == f"namespace:{ns}",
               events.c.ref.contains(f":{ns}/", autoescape=True))
        for ns in sorted(audited)
    ]
    if not audit:
        return about_asset
    return sa.or_(about_asset, sa.and_(events.c.asset_id.is_(None), sa.or_(*audit)))


def events_after(conn: Connection, *, after: int, limit: int,
                 visible: Visible = None) -> Page[Event]:
    stmt = sa.select(events).where(events.c.seq > after).order_by(events.c.seq).limit(limit + 1)
    if visible is not None:
        # outer: events about no asset have no row to join, and may still be visible
        stmt = (stmt.select_from(events.outerjoin(assets, assets.c.id == events.c.asset_id))
                .where(visible))
    rows = list(conn.execute(stmt))
    page = _page(rows, limit, "seq", event_from_row)
    return page
