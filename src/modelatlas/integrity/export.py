"""The audit log export: one self-contained file an offline verifier needs nothing else
with (but the public key it trusts, which it must get elsewhere).

JSON Lines: a header ``{"format": "modelatlas-audit-log", "version": 1, "origin": ...,
"public_key": ...}``, then one ``{"checkpoint": "<signed note>"}`` line per signed head,
then one line per event ``{"seq", "time", "actor", "action", "ref", "payload",
"payload_sha256"}`` in sequence order (``payload`` is the canonical text the digest covers).
The header's ``public_key`` is informative only: :func:`verify_export` uses the key the
caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from modelatlas.errors import FieldError, MalformedBody
from modelatlas.integrity.note import Verifier
from modelatlas.integrity.verify import EventTuple, Verified, open_checkpoints, replay

FORMAT = "modelatlas-audit-log"
VERSION = 1
_FIELDS = ("seq", "time", "actor", "action", "ref", "payload", "payload_sha256")


def write_export(out: IO[bytes], *, origin: str, public_key: str, notes: Iterable[str],
                 events: Iterable[EventTuple]) -> int:
    """Write the export; return how many events it holds."""
    out.write(orjson.dumps({"format": FORMAT, "version": VERSION, "origin": origin,
                            "public_key": public_key}) + b"\n")
    for note in notes:
        out.write(orjson.dumps({"checkpoint": note}) + b"\n")
    count = 0
    for row in events:
        out.write(orjson.dumps(dict(zip(_FIELDS, row, strict=True))) + b"\n")
        count += 1
    return count


def _malformed(line: int, message: str) -> MalformedBody:
    return MalformedBody(f"line {line} of the export: {message}",
                         errors=[FieldError(f"/lines/{line}", message)])


def _lines(source: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(source, start=1):
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _malformed(number, "not JSON") from None
        if not isinstance(item, dict):
            raise _malformed(number, "not a JSON object")
        yield number, item


def _event(number: int, item: dict[str, Any]) -> EventTuple:
    try:
        row = tuple(item[f] for f in _FIELDS)
    except KeyError as exc:
        raise _malformed(number, f"an event without {exc.args[0]!r}") from None
    if not isinstance(row[0], int) or not all(isinstance(v, str) for v in row[1:]):
        raise _malformed(number, "seq is an integer and the other fields strings")
    return row


def verify_export(source: IO[bytes], verifier: Verifier) -> Verified:
    """Verify an export with ``verifier`` only; every event must be covered by a head."""
    lines = _lines(source)
    first = next(lines, None)
    if first is None or first[1].get("format") != FORMAT or first[1].get("version") != VERSION:
        raise _malformed(1, f"not a {FORMAT} version {VERSION} export")
    origin = first[1].get("origin")
    notes: list[str] = []
    pending: tuple[int, dict[str, Any]] | None = None
    for number, item in lines:
        if "checkpoint" not in item:
            pending = (number, item)
            break
        if not isinstance(item["checkpoint"], str):
            raise _malformed(number, "a checkpoint is a signed note string")
        notes.append(item["checkpoint"])
    heads = open_checkpoints(notes, verifier, origin if isinstance(origin, str) else None)

    def events() -> Iterator[EventTuple]:
        if pending is not None:
            yield _event(*pending)
        for number, item in lines:
            yield _event(number, item)

    return replay(events(), heads, require_covered=True)
