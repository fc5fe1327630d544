"""The service layer's provenance questions, mixed into :class:`Registry`: a subgraph as
W3C PROV, the provenance report of a model version, and provenance metrics per team.
The logic and SQL live in :mod:`modelatlas.lineage` (``prov``, ``report``, ``metrics``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.errors import InvalidInput
from modelatlas.governance.grants import Readable, readable_clause
from modelatlas.governance.principal import Principal
from modelatlas.lineage.metrics import ProvenanceMetrics, provenance_metrics
from modelatlas.lineage.prov import RedactedAsset, build_document, check_format, write_prov
from modelatlas.lineage.report import ProvenanceReport, provenance_report
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry._guards import is_local, require_readable
from modelatlas.registry._rows import asset_from_row
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.lineage_types import LineageGraph, LineageQuery
from modelatlas.registry.types import Asset
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from collections.abc import Iterable


_CHUNK = 500  # refs per IN list: well under every driver's bound-parameter limit
REDACTED = "redacted"
# values a user chose (run parameters, metrics): never read as refs to redact
_OPAQUE = frozenset({"parameters", "seeds", "metrics"})


class ProvenanceService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def lineage(
            self, ref: str | Ref, query: LineageQuery | Mapping[str, Any] | None = None, *,
            principal: Principal | None = None,
        ) -> LineageGraph: ...

    def export_prov(
        self,
        ref: str | Ref,
        query: LineageQuery | Mapping[str, Any] | None = None,
        format: str = "json",
        *,
        principal: Principal | None = None,
    ) -> str:
        """The lineage subgraph around ``ref`` (``query`` as for :meth:`lineage`) as
        PROV-JSON (``format="json"``) or PROV-O Turtle (``"turtle"``). The nodes carry
        their current fields, also when ``query.as_of`` picks an older graph."""
        fmt = check_format(format)
        graph = self.lineage(ref, query, principal=principal)  # validates the query
        shown = [node.ref for node in graph.nodes if not node.redacted]
        with self.db.read() as conn:
            loaded: list[Any] = list(assets_by_ref(conn, shown))
        # an asset the caller may not read stays in the document as a bare entity of its
        # kind, so the edges through it are kept: a redacted node, not a gap that lies
        loaded += [RedactedAsset(node.ref, node.kind) for node in graph.nodes if node.redacted]
        return write_prov(build_document(loaded, graph.edges), fmt)

    def provenance_report(self, ref: str | Ref, *,
                          principal: Principal | None = None) -> ProvenanceReport:
        """Raw data -> features -> run -> evaluations -> deployments of model version
        ``ref``, with who and when at each step and what is missing. Steps the caller may
        not read stay in the report, redacted (their kind, no name): dropping them would
        make the lineage look incomplete when it is not."""
        parsed = Ref.coerce(ref, path="/ref")
        require_readable(self, principal, parsed)
        readable = None if is_local(principal) else self.readable(principal)
        with self.db.read() as conn:
            report = provenance_report(conn, parsed)
            if readable is None or readable.everything:
                return report
            return redact_report(conn, readable, report)

    def provenance_metrics(self, namespace: str | None = None, *,
                           principal: Principal | None = None) -> ProvenanceMetrics:
        """Lineage completeness and validation coverage per namespace (team): the teams
        whose every asset the caller may read (the totals add up those only)."""
        if namespace is not None:
            check_namespace(namespace, path="/namespace")
            self.authorize(principal, "asset.read", namespace)
        if is_local(principal):
            with self.db.read() as conn:
                return provenance_metrics(conn, namespace)
        readable = self.readable(principal)
        with self.db.read() as conn:
            return provenance_metrics(conn, namespace, shown=readable.wholly)


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


# --- redaction ------------------------------------------------------------------------------


def _refs_in(value: Any, found: set[str]) -> None:
    """Every string in the report that is a ref (user-chosen values excepted)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in _OPAQUE:
                _refs_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _refs_in(item, found)
    elif isinstance(value, str) and ":" in value and "/" in value:
        try:
            Ref.parse(value)
        except InvalidInput:
            return
        found.add(value)


def hidden_refs(conn: Connection, readable: Readable, refs: Iterable[str]) -> set[str]:
    """Which of ``refs`` name an asset that exists and that the caller may not read."""
    parsed = {(r.kind, r.namespace, r.name, r.version or ""): str(r) for r in map(Ref.parse, refs)}
    keys = sorted(parsed)
    key = sa.tuple_(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
    hidden: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        rows = conn.execute(sa.select(assets.c.kind, assets.c.namespace, assets.c.name,
                                      assets.c.version)
                            .where(key.in_(keys[start:start + _CHUNK]),
                                   sa.not_(readable_clause(readable, assets))))
        hidden |= {parsed[tuple(row)] for row in rows}
    return hidden


def _redact(value: Any, hidden: set[str]) -> Any:
    if isinstance(value, dict):
        if value.get("ref") in hidden:  # a step: its kind stays, nothing that names it
            return {"ref": REDACTED, "kind": value["kind"], "state": REDACTED,
                    "who": REDACTED, "when": REDACTED}
        return {k: v if k in _OPAQUE else _redact(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, hidden) for v in value]
    if isinstance(value, str):
        for ref in hidden:
            if ref in value:
                value = value.replace(ref, f"{ref.split(':', 1)[0]}:{REDACTED}")
    return value


def redact_report(conn: Connection, readable: Readable,
                  report: ProvenanceReport) -> ProvenanceReport:
    """The report with every step the caller may not read redacted in place (one query
    per 500 refs, asked of the database with the same predicate as search)."""
    document = report.model_dump()
    found: set[str] = set()
    _refs_in(document, found)
    hidden = hidden_refs(conn, readable, found)
    if not hidden:
        return report
    return ProvenanceReport.model_validate(_redact(document, hidden))
