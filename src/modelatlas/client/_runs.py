"""``client.runs``: record a run that produced no model version (``POST /runs``)."""

from __future__ import annotations

from typing import Any

from modelatlas.client._transport import _Transport, _validated
from modelatlas.registry.run_types import RunRecord, RunRecorded


class RunsAPI:
    """``client.runs``: a failed or aborted run, linked to what it used."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def record(
        self,
        record: RunRecord | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> RunRecorded:
        """Create a run (``ref="run:ns/name"``) and link it ``used`` to its ``datasets``,
        ``features``, ``code`` and ``environment`` (refs, or inline descriptions created
        when missing), all or nothing. Give a :class:`RunRecord`, a dict of its fields,
        keyword fields, or a mix (keywords win)."""
        if isinstance(record, RunRecord):
            base = record.model_dump(exclude_unset=True)
        else:
            base = dict(record or {})
        return self._t.record_run(_validated(RunRecord, {**base, **fields}), idempotency_key)
