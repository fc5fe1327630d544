"""The fast path of full verification, on both backends: on a good log it gives the
replay's answer however the log is cut into chunks and parts (forked workers included);
on anything wrong it answers ``None`` and ``audit_verify`` still names the first bad seq
through the replay."""

from __future__ import annotations

import os
from contextlib import closing

import pytest
from audit_forge import tamper

from modelatlas.integrity import fastverify, log
from modelatlas.integrity.errors import VerificationFailed
from modelatlas.integrity.note import Checkpoint, Verifier
from modelatlas.integrity.verify import Verified, open_checkpoints, replay
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate

# (workers, chunk): one process and one chunk; one process, many chunks; split across
# forked workers with chunk and part boundaries on and off the signed heads' sizes
SPLITS = [(1, fastverify.CHUNK), (1, 4), (2, 4), (3, 2), (2, 8), (4, 1)]


def _log(registry: Registry, count: int = 21, heads_at: tuple[int, ...] = (4, 8, 13),
         start: int = 0) -> None:
    for i in range(count):
        registry.create_asset(AssetCreate(ref=f"dataset:fast/f{start + i}@1",
                                          description=f"caf\u00e9 \u2028 {i}"))
        if i + 1 in heads_at:
            registry.audit_checkpoint()


def _heads(registry: Registry) -> list[Checkpoint]:
    verifier = Verifier.parse(registry.audit_public_key())
    with registry.db.read() as conn:
        return open_checkpoints((c.signed_note for c in log.checkpoints(conn)), verifier, None)


def _fast(registry: Registry, workers: int, chunk: int) -> Verified | None:
    heads = _heads(registry)
    with registry.db.read() as conn:
        return fastverify.verify_stored(conn, heads, log.head(conn), workers=workers,
                                        chunk=chunk)


def _replayed(registry: Registry) -> Verified:
    heads = _heads(registry)
    with registry.db.read() as conn, closing(log.event_rows(conn)) as rows, \
            closing(log.leaf_rows(conn)) as leaves:
        return replay(rows, heads, leaves=leaves)


def _same(a: Verified | None, b: Verified) -> bool:
    return a is not None and (a.events, a.root, a.checkpoints, a.last_seq) == (
        b.events, b.root, b.checkpoints, b.last_seq)


@pytest.mark.parametrize(("workers", "chunk"), SPLITS)
def test_a_good_log_gets_the_replays_answer(registry: Registry, workers: int,
                                            chunk: int) -> None:
    _log(registry)
    assert _same(_fast(registry, workers, chunk), _replayed(registry))


def test_every_size_of_log_and_head(registry: Registry) -> None:
    """Sizes 1 to 17 with a head at each: every edge of every chunk of 4 is a size."""
    for size in range(1, 18):
        _log(registry, count=1, heads_at=(1,), start=size)
        expected = _replayed(registry)
        assert expected.events == size
        for workers, chunk in [(1, 4), (2, 4), (3, 2)]:
            assert _same(_fast(registry, workers, chunk), expected), (size, workers, chunk)


def test_a_write_committed_meanwhile_changes_nothing(registry: Registry) -> None:
    """The parts read only what the parent's view holds. On SQLite the view is a snapshot,
    so the answer is the view's; PostgreSQL reads at READ COMMITTED, where the parent sees
    the new events past its tree head and leaves the log to the replay (never a wrong
    answer either way)."""
    _log(registry)
    heads = _heads(registry)
    with registry.db.read() as conn:
        tree = log.head(conn)  # the view's tree head
        _log(registry, count=5, heads_at=(), start=100)  # other connections write meanwhile
        done = fastverify.verify_stored(conn, heads, tree, workers=3, chunk=2)
        snapshot = conn.dialect.name == "sqlite"
    if snapshot or done is not None:
        assert done is not None and (done.events, done.root) == (tree.size, tree.root)


def test_an_empty_log_is_left_to_the_replay(registry: Registry) -> None:
    assert _fast(registry, 1, 4) is None
    assert registry.audit_verify().events == 0


TAMPERS = {
    "payload": ["UPDATE events SET payload = '{\"ref\":\"forged\"}' WHERE seq = :s"],
    "actor": ["UPDATE events SET actor = 'mallory' WHERE seq = :s"],
    "deleted event": ["DELETE FROM events WHERE seq = :s"],
    "leaf hash": ["UPDATE audit_leaves SET hash = :zeros WHERE seq = :s"],
    "leaf seq": ["UPDATE audit_leaves SET seq = seq + 1000 WHERE seq = :s"],
    "deleted leaf": ["DELETE FROM audit_leaves WHERE seq = :s"],
    "appended event": ["INSERT INTO events (seq, time, actor, action, ref, payload, "
                       "payload_sha256) SELECT seq + 1000, time, actor, action, ref, payload, "
                       "payload_sha256 FROM events WHERE seq = :s"],
    "digest case": ["UPDATE events SET payload_sha256 = upper(payload_sha256) WHERE seq = :s"],
    "quote in actor": ["UPDATE events SET actor = 'a\"b' WHERE seq = :s"],
}


@pytest.mark.parametrize("name", TAMPERS)
def test_a_tampered_log_is_left_to_the_replay(registry: Registry, name: str) -> None:
    _log(registry)
    seqs = [e.seq for e in registry.events(after=0, limit=100).items]
    tamper(registry, *TAMPERS[name], s=seqs[10], zeros=bytes(32))  # type: ignore[arg-type]
    for workers, chunk in SPLITS:
        assert _fast(registry, workers, chunk) is None, (workers, chunk)
    with pytest.raises(VerificationFailed) as caught:
        registry.audit_verify()
    if name != "appended event":
        assert caught.value.first_bad_seq == seqs[10]


def test_a_part_that_fails_in_a_worker_is_left_to_the_replay(registry: Registry) -> None:
    """The last part (a forked worker's) holds the damage: the parent's own part passes."""
    _log(registry)
    seqs = [e.seq for e in registry.events(after=0, limit=100).items]
    tamper(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s", s=seqs[-1])
    assert _fast(registry, 2, 4) is None
    with pytest.raises(VerificationFailed) as caught:
        registry.audit_verify()
    assert caught.value.first_bad_seq == seqs[-1]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: nothing to split for")
def test_audit_verify_splits_a_large_log_across_workers(
        registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """``audit_verify`` itself, with the thresholds lowered so that 21 events count as a
    large log: forked workers give the replay's answer, and a tampered log is still named
    by the replay."""
    _log(registry)
    expected = _replayed(registry)
    monkeypatch.setattr(fastverify, "PARALLEL_FROM", 1)
    monkeypatch.setattr(fastverify, "CHUNK", 4)
    heads = _heads(registry)
    with registry.db.read() as conn:  # the defaults now take the forked path
        assert fastverify._default_workers(conn, len(heads) + 100) > 1
        assert _same(fastverify.verify_stored(conn, heads, log.head(conn)), expected)
    done = registry.audit_verify()
    assert (done.events, done.last_seq, done.checkpoints) == (
        expected.events, expected.last_seq, expected.checkpoints)
    seqs = [e.seq for e in registry.events(after=0, limit=100).items]
    tamper(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s", s=seqs[17])
    with pytest.raises(VerificationFailed) as caught:
        registry.audit_verify()
    assert caught.value.first_bad_seq == seqs[17]
