"""Which model versions a deployed storage URI or digest names, asked of the database.

A version's artifacts live in its metadata (``meta.artifacts[].uri`` / ``.sha256``), so the
question is a JSON query, one function per backend behind :func:`versions_serving`:
``json_each`` on SQLite, ``jsonb_array_elements`` on PostgreSQL. A storage URI matches an
artifact with the same URI (trailing slashes ignored) or one under it (a KServe
``storageUri`` usually names a directory). Digests also match the version's own
``digests.sha256`` (its artifact manifest's root). Each query reads model versions only
(the ``(kind, id)`` index) and stops after :data:`LIMIT` rows; no index covers the JSON
yet, so its cost grows with the number of model versions (see docs/integrations.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.refs import Ref
from modelatlas.store.tables import assets

LIMIT = 20
Visible = ColumnElement[bool] | None


@dataclass(frozen=True)
class Candidate:
    asset_id: int
    ref: Ref
    exact: bool  # the URI named the artifact itself, not a directory above it


def _elements(dialect: str) -> tuple[Any, Callable[[str], ColumnElement[Any]]]:
    """The table of a version's artifacts, and how to read a field of one."""
    if dialect == "postgresql":
        table = sa.func.jsonb_array_elements(assets.c.meta["artifacts"]).table_valued("value")
        return table, lambda key: table.c.value.op("->>")(key)
    table = sa.func.json_each(assets.c.meta, "$.artifacts").table_valued("value")
    return table, lambda key: sa.func.json_extract(table.c.value, f"$.{key}")


def _select(conn: Connection, condition: Callable[[Callable[[str], Any]], Any],
            extra: Any, visible: Visible) -> list[Any]:
    table, field = _elements(conn.dialect.name)
    uri = field("uri")
    query = (sa.select(assets.c.id, assets.c.namespace, assets.c.name, assets.c.version,
                       uri.label("uri"))
             .select_from(assets.join(table, sa.true()))
             .where(assets.c.kind == "model_version", condition(field) if extra is None
                    else sa.or_(condition(field), extra))
             .limit(LIMIT))
    if visible is not None:
        query = query.where(visible)
    return list(conn.execute(query))


def _candidates(rows: list[Any], exact: Callable[[Any], bool]) -> list[Candidate]:
    found: dict[int, Candidate] = {}
    for row in rows:
        ref = Ref.of("model_version", row.namespace, row.name, row.version)
        hit = Candidate(int(row.id), ref, exact(row))
        if row.id not in found or (hit.exact and not found[row.id].exact):
            found[int(row.id)] = hit
    return sorted(found.values(), key=lambda c: c.asset_id)


def by_uri(conn: Connection, uri: str, visible: Visible) -> list[Candidate]:
    """Versions with an artifact at ``uri`` or under it (``uri`` without trailing slash)."""
    prefix = uri + "/"

    def condition(field: Callable[[str], Any]) -> Any:
        stored = field("uri")
        # substr, not LIKE: LIKE ignores ASCII case on SQLite and URIs are case-sensitive
        return sa.or_(sa.func.rtrim(stored, "/") == uri,
                      sa.func.substr(stored, 1, len(prefix)) == prefix)

    rows = _select(conn, condition, None, visible)
    return _candidates(rows, lambda row: str(row.uri or "").rstrip("/") == uri)


def by_digest(conn: Connection, sha256: str, visible: Visible) -> list[Candidate]:
    """Versions with an artifact of this SHA-256, or whose own digest it is."""
    own = assets.c.digests["sha256"].as_string() == sha256
    rows = _select(conn, lambda field: field("sha256") == sha256, own, visible)
    # A version whose own digest matches but that lists no artifacts has no artifact row
    # to join: ask for it by itself.
    query = sa.select(assets.c.id, assets.c.namespace, assets.c.name, assets.c.version,
                      sa.null().label("uri")).where(assets.c.kind == "model_version", own)
    if visible is not None:
        query = query.where(visible)
    rows += list(conn.execute(query.limit(LIMIT)))
    return _candidates(rows, lambda _row: True)
