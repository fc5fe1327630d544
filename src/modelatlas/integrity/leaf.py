"""What one audit-log leaf holds: the leaf format, versioned (docs/audit.md).

Version 1 is the RFC 8785 canonical JSON of::

    {"action", "actor", "outcome", "payload_sha256", "seq", "target", "time", "v": 1}

``target`` is the event's ref, ``outcome`` is ``"ok"`` for committed changes (the only
events so far; refused attempts will be leaves with another outcome), and the payload is
covered through its SHA-256, so no field of an event can change without changing its leaf.
All values are strings or integers and all keys ASCII, so canonical JSON is orjson's output
with the keys written in sorted order (a property test holds it to ``rfc8785``); that is
what makes verification fast enough to replay millions of events.
"""

from __future__ import annotations

import hashlib

import orjson

LEAF_VERSION = 1
OUTCOME_OK = "ok"


def leaf_data(*, seq: int, time: str, actor: str, action: str, target: str,
              payload_sha256: str, outcome: str = OUTCOME_OK) -> bytes:
    return orjson.dumps({
        "action": action, "actor": actor, "outcome": outcome,
        "payload_sha256": payload_sha256, "seq": seq, "target": target, "time": time,
        "v": LEAF_VERSION,
    })


# The leaf data of an ``events`` row built by SQLite (for the fast path of verification,
# which reads a chunk of leaves as one value instead of seven Python objects a row): the
# same bytes as :func:`leaf_data` for every row a replay accepts, because SQLite's JSON
# strings escape exactly as RFC 8785 does (``"`` and backslash, then b, t, n, f, r, the
# other control characters as lowercase ``u00xx``, everything else as it is) and the keys are
# written in sorted order. tests/integrity/test_integrity_sql_leaf.py holds the two to each
# other over arbitrary text; a divergence could only send a good log to the slow replay.
SQLITE_LEAF_DATA = (
    f"json_object('action', action, 'actor', actor, 'outcome', '{OUTCOME_OK}', "
    "'payload_sha256', payload_sha256, 'seq', seq, 'target', ref, 'time', time, "
    f"'v', {LEAF_VERSION})")


def event_leaf_hash(seq: int, time: str, actor: str, action: str, target: str,
                    payload_sha256: str) -> bytes:
    """``H(0x00 || leaf_data)`` for one event row, positional for speed in replays."""
    return hashlib.sha256(b"\x00" + orjson.dumps({
        "action": action, "actor": actor, "outcome": OUTCOME_OK,
        "payload_sha256": payload_sha256, "seq": seq, "target": target, "time": time,
        "v": LEAF_VERSION,
    })).digest()
