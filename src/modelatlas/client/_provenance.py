"""``client.provenance``: the provenance report of a model version, W3C PROV export of
a lineage subgraph, and provenance metrics per team."""

from __future__ import annotations

from typing import Any

from modelatlas.client._transport import _given, _Transport
from modelatlas.lineage.prov import check_format
from modelatlas.registry.provenance_types import ProvenanceMetrics, ProvenanceReport


class ProvenanceAPI:
    """``client.provenance``: where a model version came from, and how well teams record it."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def report(self, ref: str) -> ProvenanceReport:
        """Raw data -> features -> run -> evaluations -> deployments of model version
        ``ref``, with who and when at each step, and what is missing from the chain."""
        return self._t.provenance_report(ref)

    def export(
        self,
        ref: str,
        *,
        format: str = "json",
        direction: str = "both",
        depth: int = 3,
        limit: int | None = None,
        as_of: str | None = None,
    ) -> str:
        """The lineage subgraph around ``ref`` as PROV-JSON (``format="json"``) or PROV-O
        Turtle (``"turtle"``); read it with ``prov.model.ProvDocument.deserialize``."""
        fmt = check_format(format)
        query: dict[str, Any] = {"direction": direction, "depth": depth,
                                 **_given(limit=limit, as_of=as_of)}
        return self._t.export_prov(ref, query, fmt)

    def metrics(self, namespace: str | None = None) -> ProvenanceMetrics:
        """Lineage completeness and validation coverage per team (one team's, given)."""
        return self._t.provenance_metrics(namespace)
