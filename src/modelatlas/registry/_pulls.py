"""Who pulled an asset: one row a person (``asset_pulls``), written when an artifact is
downloaded or a client reports ``pulled``, read when a deprecation looks for the teams to
tell. The usage signal of the same name is a decayed ranking score with no person in it;
this is the record of who."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.governance.grants import EVERYWHERE
from modelatlas.store.backends import upsert_insert
from modelatlas.store.tables import asset_pulls, role_grants


def record_pull(conn: Connection, asset_id: int, person: str, at: str) -> None:
    """Count one pull of ``asset_id`` by ``person`` (one statement: no read-modify-write)."""
    stmt = upsert_insert(conn, asset_pulls).values(asset_id=asset_id, person=person, pulls=1,
                                      last_pulled_at=at)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["asset_id", "person"],
        set_={"pulls": asset_pulls.c.pulls + 1, "last_pulled_at": stmt.excluded.last_pulled_at},
    ))


def pullers_by_namespace(conn: Connection, asset_id: int, *, limit: int = 10_000
                         ) -> dict[str, list[str]]:
    """The people who pulled ``asset_id``, under each namespace (team) that grants them a
    role by name. A registry-wide grant (``*``) is no team; a person with no grant is
    nobody's to tell."""
    rows = conn.execute(
        sa.select(role_grants.c.namespace, asset_pulls.c.person)
        .join(role_grants, sa.and_(role_grants.c.principal_type == "user",
                                   role_grants.c.principal_name == asset_pulls.c.person))
        .where(asset_pulls.c.asset_id == asset_id, role_grants.c.namespace != EVERYWHERE)
        .order_by(role_grants.c.namespace, asset_pulls.c.person).limit(limit)
    ).all()
    found: dict[str, list[str]] = defaultdict(list)
    for namespace, person in rows:
        found[namespace].append(person)
    return dict(found)
