"""The graph as it was at a past moment.

Relations are deleted when removed; ``relation_history`` (migration 0009, kept by triggers
on ``relations``) records when each existed, so an as-of walk is the same recursive walk
over the rows alive at the time, and over the assets created by then
(:class:`._cte.EdgeSource`). This module turns what a caller wrote into that time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from modelatlas.errors import FieldError, InvalidInput

_HINT = "an ISO-8601 time, e.g. 2026-03-01 or 2026-03-01T12:00:00Z"


def parse_as_of(text: str, *, path: str = "/as_of") -> str:
    """``2026-03-01``, ``2026-03-01T12:00``, ``...Z`` or ``...+02:00`` as the stored UTC
    text (``2026-03-01T12:00:00.000000Z``), which orders as times do; a time without an
    offset is UTC."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(f"{path}: {text!r} is not {_HINT}",
                           errors=[FieldError(path, f"not {_HINT}")]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput.at(path, "out of range") from None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
