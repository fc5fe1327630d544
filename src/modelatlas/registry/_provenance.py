"""The service layer's provenance questions, mixed into :class:`Registry`: a subgraph as
W3C PROV, the provenance report of a model version, and provenance metrics per team.
The logic and SQL live in :mod:`modelatlas.lineage` (``prov``, ``report``, ``metrics``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage.metrics import ProvenanceMetrics, provenance_metrics
from modelatlas.lineage.prov import build_document, check_format, write_prov
from modelatlas.lineage.report import ProvenanceReport, provenance_report
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry._rows import asset_from_row
from modelatlas.registry.lineage_types import LineageGraph, LineageQuery
from modelatlas.registry.types import Asset
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from modelatlas.config import Settings
    from modelatlas.store.engine import Database

_CHUNK = 500  # refs per IN list: well under every driver's bound-parameter limit


class ProvenanceService:
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        db: Database
        settings: Settings

        def lineage(
            self, ref: str | Ref, query: LineageQuery | Mapping[str, Any] | None = None
        ) -> LineageGraph: ...

    def export_prov(
        self,
        ref: str | Ref,
        query: LineageQuery | Mapping[str, Any] | None = None,
        format: str = "json",
    ) -> str:
        """The lineage subgraph around ``ref`` (``query`` as for :meth:`lineage`) as
        PROV-JSON (``format="json"``) or PROV-O Turtle (``"turtle"``). The nodes carry
        their current fields, also when ``query.as_of`` picks an older graph."""
        fmt = check_format(format)
        graph = self.lineage(ref, query)  # validates the query
        with self.db.read() as conn:
            loaded = assets_by_ref(conn, [node.ref for node in graph.nodes])
        return write_prov(build_document(loaded, graph.edges), fmt)

    def provenance_report(self, ref: str | Ref) -> ProvenanceReport:
        """Raw data -> features -> run -> evaluations -> deployments of model version
        ``ref``, with who and when at each step and what is missing."""
        parsed = Ref.coerce(ref, path="/ref")
        with self.db.read() as conn:
            return provenance_report(conn, parsed)

    def provenance_metrics(self, namespace: str | None = None) -> ProvenanceMetrics:
        """Lineage completeness and validation coverage per namespace (team)."""
        if namespace is not None:
            check_namespace(namespace, path="/namespace")
        with self.db.read() as conn:
            return provenance_metrics(conn, namespace)


def assets_by_ref(conn: Connection, refs: Sequence[str]) -> list[Asset]:
    """The whole assets of ``refs`` (the light nodes of a walk), a few queries for any
    number; refs that no longer exist are left out."""
    keys = [(r.kind, r.namespace, r.name, r.version or "") for r in map(Ref.parse, refs)]
    key = sa.tuple_(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
    found: list[Asset] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        found += [asset_from_row(row)
                  for row in conn.execute(sa.select(assets).where(key.in_(chunk)))]
    return found
