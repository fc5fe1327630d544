"""``client.lineage.ingest``: OpenLineage events in, through either transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelatlas.registry import OpenLineageIngest

if TYPE_CHECKING:
    from modelatlas.client._transport import _Transport


class OpenLineageIngestAPI:
    """Mixed into ``LineageAPI``: ``client.lineage.ingest(events)``."""

    _t: _Transport

    def ingest(
        self, events: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> OpenLineageIngest:
        """Ingest one OpenLineage event (a dict, as the OpenLineage clients serialise
        it) or a list of them in one all-or-nothing batch; see docs/openlineage.md."""
        if isinstance(events, Mapping):
            return self._t.openlineage_ingest(dict(events))
        return self._t.openlineage_ingest([dict(event) for event in events])
