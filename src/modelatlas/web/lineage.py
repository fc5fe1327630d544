"""The lineage explorer: ``/lineage?ref=`` draws an asset's upstream and downstream graph.

The page itself only checks the asset (so a wrong ref is a clear error page, not a blank
canvas) and hands its ref to ``static/lineage.js``, which loads the graph lazily from the
API as the signed-in person: one side of one asset at a time, counted and paged
(``/api/v1/lineage-neighbours/{ref}``), so an asset with thousands of dependents opens as
a few group nodes rather than thousands of boxes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from modelatlas.refs import KINDS
from modelatlas.relations import RELATIONS
from modelatlas.web import session as _session
from modelatlas.web._render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# the relations stored from the upstream asset to the downstream one (``run --produced-->
# model_version``); the script draws every edge along influence, so it must know these
INVERSE = tuple(sorted(name for name, rel in RELATIONS.items() if rel.prov_inverse))
# words a non-specialist reads in the legend and the side panel
KIND_LABELS = {kind: kind.replace("_", " ") for kind in KINDS}


@router.get("/lineage")
def lineage_page(request: Request, registry: _session.PageRegistry,
                 principal: _session.PagePrincipal,
                 ref: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    context: dict[str, object] = {"kinds": KIND_LABELS, "inverse": ",".join(INVERSE),
                                  "ref": (ref or "").strip(), "asset": None}
    if context["ref"]:
        # missing, unreadable or malformed: PageRoute shows the service's error page
        context["asset"] = registry.get_asset(str(context["ref"]), principal=principal)
    return render(request, "lineage.html", context)
