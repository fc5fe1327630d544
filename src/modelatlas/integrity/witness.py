"""Witness cosignatures on checkpoints, and where the registry keeps them.

A witness is a second party with its own note key. It holds the last checkpoint it
co-signed for a log (a :class:`~modelatlas.integrity.trust.TrustStore` of its own), checks
a consistency proof from it to each new checkpoint, and only then adds its signature line
to the signed note. A c2sp.org/signed-note may carry several signature lines, and
verifiers ignore lines by keys they do not know, so a co-signed note still opens with the
log's key alone, and a client that requires a witness opens it with both.

The cosignature is a plain Ed25519 note signature over the checkpoint text (as
golang.org/x/mod/sumdb/note multi-signer notes have it), not the timestamped
c2sp.org/tlog-cosignature format: that is a later step.

The registry stores a co-signed note in place of its own (same checkpoint text, more
signature lines). It accepts only lines it has verified with the witness key sent along,
and at most :data:`MAX_COSIGNATURES` witnesses per checkpoint, so the note stays small and
every stored line is a valid signature.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import Conflict, FieldError, NotFound
from modelatlas.integrity.errors import VerificationFailed
from modelatlas.integrity.log import StoredCheckpoint
from modelatlas.integrity.note import Checkpoint, Signer, Verifier, open_note
from modelatlas.store.tables import audit_checkpoints

MAX_COSIGNATURES = 16
_DASH = "\u2014"


def split_note(note: str) -> tuple[str, list[str]]:
    """The checkpoint text (with its final newline) and the signature lines."""
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise VerificationFailed("not a signed note",
                                 errors=[FieldError("/signed_note", "not a signed note")])
    return text + "\n", sigs[:-1].split("\n")


def _line_of(note: str, key: Verifier) -> str:
    """The signature line ``key`` made in ``note`` (which must hold a valid one)."""
    open_note(note, key)  # raises unless one line by this key verifies
    prefix = f"{_DASH} {key.name} "
    for line in split_note(note)[1]:
        if line.startswith(prefix):
            blob = line[len(prefix):]
            if key.key_id == _key_id_of(blob):
                return line
    raise VerificationFailed("no signature line by the witness")  # pragma: no cover


def _key_id_of(blob: str) -> bytes:
    try:
        return base64.b64decode(blob, validate=True)[:4]
    except binascii.Error:
        return b""


def with_line(note: str, line: str, key: Verifier) -> str:
    """``note`` with ``line`` (by ``key``) added, replacing an older line by that key."""
    text, lines = split_note(note)
    prefix = f"{_DASH} {key.name} "
    kept = [item for item in lines
            if not (item.startswith(prefix) and _key_id_of(item[len(prefix):]) == key.key_id)]
    return text + "\n" + "\n".join([*kept, line]) + "\n"


def cosign(note: str, *, log_key: Verifier, witness: Signer) -> str:
    """Add ``witness``'s signature to ``note`` after checking the log's own signature
    (consistency with the witness's last checkpoint is the caller's job:
    :func:`modelatlas.integrity.trust.advance`)."""
    text = open_note(note, log_key)
    Checkpoint.parse(text)
    line = witness.sign(text).rpartition("\n\n")[2].rstrip("\n")
    return with_line(note, line, witness.verifier)


# --- the registry's side --------------------------------------------------------------

def merge_cosignature(stored: str, incoming: str, *, log_key: Verifier,
                      witness_key: Verifier) -> str:
    """``stored`` with the witness's line from ``incoming`` added: both notes must carry
    the log's valid signature over the same checkpoint text, and ``incoming`` a valid
    signature by ``witness_key``."""
    if witness_key == log_key:
        raise Conflict("a witness key must differ from the log's own key",
                       errors=[FieldError("/witness_key", "is the log's key")])
    if open_note(incoming, log_key) != open_note(stored, log_key):
        raise Conflict("the co-signed note is not the checkpoint the registry signed",
                       errors=[FieldError("/signed_note", "different checkpoint text")])
    line = _line_of(incoming, witness_key)
    merged = with_line(stored, line, witness_key)
    if len(split_note(merged)[1]) > MAX_COSIGNATURES + 1:
        raise Conflict(f"a checkpoint holds at most {MAX_COSIGNATURES} cosignatures",
                       errors=[FieldError("/signed_note", "too many cosignatures")])
    return merged


_COLUMNS = (audit_checkpoints.c.size, audit_checkpoints.c.root,
            audit_checkpoints.c.signed_note, audit_checkpoints.c.key_id,
            audit_checkpoints.c.created_at)


def _stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3], row[4])


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint:
    row = conn.execute(sa.select(*_COLUMNS).where(audit_checkpoints.c.size == size)).first()
    if row is None:
        raise NotFound(f"the registry signed no checkpoint at size {size}",
                       errors=[FieldError("/signed_note", "unknown tree size")])
    return _stored(row)


def set_note(conn: Connection, size: int, note: str) -> None:
    conn.execute(audit_checkpoints.update().where(audit_checkpoints.c.size == size)
                 .values(signed_note=note))


def latest_cosigned(conn: Connection, names: list[str]) -> StoredCheckpoint | None:
    """The newest checkpoint with a signature line by every name in ``names`` (a scan
    from the newest down, which stops at the witness's last cosignature)."""
    query = sa.select(*_COLUMNS).order_by(audit_checkpoints.c.size.desc()).limit(1)
    for name in names:
        query = query.where(audit_checkpoints.c.signed_note.contains(
            f"\n{_DASH} {name} ", autoescape=True))
    row = conn.execute(query).first()
    return None if row is None else _stored(row)
