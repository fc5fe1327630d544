"""The leaf data SQLite writes for the fast path of verify (``leaf.SQLITE_LEAF_DATA``) is
``leaf_data``'s byte for byte over any text a log can hold, so a good log never falls back
to the slow replay for its strings; and a log of such strings verifies through the fast
path on both backends."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from modelatlas.integrity import fastverify, log
from modelatlas.integrity.leaf import SQLITE_LEAF_DATA, leaf_data
from modelatlas.integrity.note import Verifier
from modelatlas.integrity.verify import open_checkpoints, replay
from modelatlas.registry import Registry
from modelatlas.registry._tx import append_events

# what RFC 8785 and SQLite's JSON might escape differently: short escapes, the other control
# characters, quote, backslash, solidus, DEL, line separators, BOM, non-BMP; then any text
# (no lone surrogates: neither SQLite text nor orjson holds one)
AWKWARD = "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\"\\/\x7f\x80\u2028\u2029\ufeff\U0001f600"
TEXT = st.text(st.one_of(st.sampled_from(AWKWARD),
                         st.characters(exclude_categories=("Cs",))), max_size=30)
_ROW = ("SELECT CAST(" + SQLITE_LEAF_DATA + " AS BLOB) FROM (SELECT ? AS seq, ? AS time, "
        "? AS actor, ? AS action, ? AS ref, ? AS payload_sha256)")


@given(st.integers(1, 2**63 - 1), TEXT, TEXT, TEXT, TEXT, TEXT)
@example(1, AWKWARD, AWKWARD[::-1], "", "a\"b", "0" * 64)
def test_sqlites_leaf_data_is_leaf_datas(seq: int, time: str, actor: str, action: str,
                                          ref: str, digest: str) -> None:
    with closing(sqlite3.connect(":memory:")) as conn:
        (data,) = conn.execute(_ROW, (seq, time, actor, action, ref, digest)).fetchone()
    assert data == leaf_data(seq=seq, time=time, actor=actor, action=action, target=ref,
                             payload_sha256=digest)


def _row(i: int) -> dict[str, object]:
    stored = AWKWARD[1:]  # PostgreSQL text holds no NUL
    odd = stored[i % len(stored):] + f" {i}"
    payload = orjson.dumps({"note": odd, "i": i}, option=orjson.OPT_SORT_KEYS)
    return {"time": f"2026-11-27T06:00:{i:02d}Z{odd[:8]}", "actor": f"actor {odd}",
            "action": f"asset.{odd}", "ref": f"dataset:odd/{odd}@1", "asset_id": None,
            "payload": payload.decode(), "payload_sha256": hashlib.sha256(payload).hexdigest()}


def test_a_log_of_awkward_strings_verifies_on_the_fast_path(registry: Registry) -> None:
    with registry.db.write() as conn:
        append_events(conn, [_row(i) for i in range(len(AWKWARD) + 3)])
    registry.audit_checkpoint()
    verifier = Verifier.parse(registry.audit_public_key())
    with registry.db.read() as conn:
        heads = open_checkpoints((c.signed_note for c in log.checkpoints(conn)), verifier,
                                 None)
        tree = log.head(conn)
        fast = fastverify.verify_stored(conn, heads, tree, workers=1, chunk=4)
        with closing(log.event_rows(conn)) as rows, closing(log.leaf_rows(conn)) as leaves:
            replayed = replay(rows, heads, leaves=leaves)
    assert fast is not None
    assert (fast.events, fast.root, fast.last_seq) == (
        replayed.events, replayed.root, replayed.last_seq) == (tree.size, tree.root,
                                                                tree.last_seq)
