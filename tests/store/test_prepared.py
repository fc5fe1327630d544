"""Prepared statements give the same rows as SQLAlchemy's own execution, on both backends."""

from __future__ import annotations

import sqlalchemy as sa

from modelatlas.registry import Registry
from modelatlas.store.backends import backend_for
from modelatlas.store.prepared import Prepared
from modelatlas.store.tables import events, version_counters


def test_json_literals_and_returning_round_trip(registry: Registry) -> None:
    insert = Prepared(events.insert())
    rows = [
        {"time": "t", "actor": "a", "action": "x", "ref": f"r{i}", "asset_id": None,
         "payload": '{"é":1}', "payload_sha256": "0" * 64}
        for i in range(3)
    ]
    with registry.db.write() as conn:
        insert.executemany(conn, rows)
        counter = backend_for(conn.dialect.name)
        numbers = [counter.next_version(conn, "model_version", "ns", "m") for _ in range(3)]
    assert numbers == [1, 2, 3]  # the statement's own literal (last = 1, last + 1) applies
    with registry.db.read() as conn:
        stored = conn.execute(sa.select(events.c.ref, events.c.payload).order_by(events.c.seq))
        assert [tuple(r) for r in stored] == [(f"r{i}", '{"é":1}') for i in range(3)]
        last = conn.execute(sa.select(version_counters.c.last)).scalar_one()
    assert last == 3


def test_a_lookup_that_finds_nothing_is_none(registry: Registry) -> None:
    lookup = Prepared(
        sa.select(version_counters.c.last).where(version_counters.c.name == sa.bindparam("n"))
    )
    with registry.db.read() as conn:
        assert lookup.scalar(conn, {"n": "missing"}) is None
