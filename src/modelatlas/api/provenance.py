"""``/prov``, ``/provenance`` and ``/metrics/provenance``: W3C PROV export, the provenance
report of a model version, and provenance metrics per team; thin over the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.lineage.prov import MEDIA_TYPES, check_format
from modelatlas.registry.lineage_types import DEFAULT_NODE_LIMIT
from modelatlas.registry.provenance_types import ProvenanceMetrics, ProvenanceReport

router = APIRouter(route_class=StrictJSONRoute, tags=["provenance"],
                   responses=PROBLEM_RESPONSES)

_PROV_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"description": "PROV-JSON or PROV-O Turtle",
          "content": {"application/json": {}, "text/turtle": {}}},
}


@router.get("/prov/{ref:path}", response_class=Response, responses=_PROV_CONTENT,
            summary="The lineage subgraph around an asset as W3C PROV")
def export_prov(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    format: Annotated[str, Query(max_length=16, description="json or turtle")] = "json",
    direction: Annotated[str, Query(max_length=16,
                                    description="upstream, downstream or both")] = "both",
    depth: Annotated[int, Query(description="hops from the asset")] = 3,
    limit: Annotated[int, Query(description="most assets")] = DEFAULT_NODE_LIMIT,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    query: dict[str, Any] = {"direction": direction, "depth": depth, "limit": limit}
    if as_of is not None:
        query["as_of"] = as_of
    with located(path=("ref",), query=("format", "direction", "depth", "limit", "as_of")):
        fmt = check_format(format)
        text = registry.export_prov(ref, query, fmt, principal=principal)
    return Response(content=text, media_type=MEDIA_TYPES[fmt])


@router.get("/provenance/{ref:path}", response_model=ProvenanceReport,
            summary="Provenance report of a model version: data, run, evaluations, "
                    "deployments, and what is missing")
def report(ref: str, registry: RegistryDep, principal: PrincipalDep) -> ProvenanceReport:
    with located(path=("ref",)):
        return registry.provenance_report(ref, principal=principal)


@router.get("/metrics/provenance", response_model=ProvenanceMetrics,
            summary="Lineage completeness and validation coverage per team")
def metrics(
    registry: RegistryDep,
    principal: PrincipalDep,
    namespace: Annotated[str | None, Query(max_length=64)] = None,
) -> ProvenanceMetrics:
    with located(query=("namespace",)):
        return registry.provenance_metrics(namespace, principal=principal)
