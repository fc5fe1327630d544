"""Tampering directly in the database, on both backends: ``audit_verify`` names the first
bad sequence number each time; the append-only trigger refuses UPDATE and DELETE."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from audit_forge import tamper
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from modelatlas.integrity.errors import VerificationFailed
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate


def _log(registry: Registry, count: int = 8) -> list[int]:
    for i in range(count):
        registry.create_asset(AssetCreate(ref=f"dataset:tamper/t{i}@1"))
        if i == 3:
            registry.audit_checkpoint()  # heads at size 4 and (below) at the end
    registry.audit_checkpoint()
    return [e.seq for e in registry.events(after=0, limit=100).items]


def _first_bad(registry: Registry) -> int | None:
    with pytest.raises(VerificationFailed) as caught:
        registry.audit_verify()
    return caught.value.first_bad_seq


def test_an_edited_payload_is_named(registry: Registry) -> None:
    seqs = _log(registry)
    tamper(registry, "UPDATE events SET payload = '{\"ref\":\"forged\"}' WHERE seq = :s",
            s=seqs[5])
    assert _first_bad(registry) == seqs[5]


def test_an_edited_actor_is_named(registry: Registry) -> None:
    seqs = _log(registry)
    tamper(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s", s=seqs[2])
    assert _first_bad(registry) == seqs[2]


def test_a_deleted_row_is_named(registry: Registry) -> None:
    seqs = _log(registry)
    tamper(registry, "DELETE FROM events WHERE seq = :s", s=seqs[3])
    assert _first_bad(registry) == seqs[3]


def test_reordered_rows_are_named(registry: Registry) -> None:
    seqs = _log(registry)
    tamper(registry, "UPDATE events SET seq = 100000 WHERE seq = :a",
            "UPDATE events SET seq = :a WHERE seq = :b",
            "UPDATE events SET seq = :b WHERE seq = 100000", a=seqs[1], b=seqs[6])
    assert _first_bad(registry) == seqs[1]


def test_a_truncated_log_is_named(registry: Registry) -> None:
    seqs = _log(registry)
    tamper(registry, "DELETE FROM events WHERE seq >= :s", s=seqs[6])
    assert _first_bad(registry) == seqs[6]


def test_events_and_leaves_rewritten_together_fail_against_the_signed_head(
    registry: Registry,
) -> None:
    """The attacker also recomputes the stored tree; only the signed heads remain honest:
    the first bad seq is the first event after the last head that still matches."""
    seqs = _log(registry)
    tamper(registry, "DELETE FROM events WHERE seq > :s", s=seqs[5])
    with registry.db.writer.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_leaves WHERE seq > :s"), {"s": seqs[5]})
    assert _first_bad(registry) == seqs[4]


def test_an_appended_event_outside_the_tree_is_named(registry: Registry) -> None:
    seqs = _log(registry)
    with registry.db.writer.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO events (seq, time, actor, action, ref, payload, payload_sha256) "
            "SELECT seq + 1000, time, actor, action, ref, payload, payload_sha256 "
            "FROM events WHERE seq = :s"), {"s": seqs[0]})
    assert _first_bad(registry) == seqs[0] + 1000


@pytest.mark.parametrize("statement", [
    "UPDATE events SET actor = 'mallory' WHERE seq = :s",
    "DELETE FROM events WHERE seq = :s",
])
def test_the_database_refuses_to_change_events(registry: Registry, statement: str) -> None:
    seqs = _log(registry, 2)
    run: Callable[[Connection], object] = lambda conn: conn.execute(  # noqa: E731
        sa.text(statement), {"s": seqs[0]})
    with pytest.raises(DBAPIError, match="append-only"), registry.db.writer.begin() as conn:
        run(conn)
    registry.audit_verify()
