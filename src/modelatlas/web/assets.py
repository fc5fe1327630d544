"""``/assets/{ref}``: the page of any asset (dataset, feature, schema, environment, code,
run, evaluation, deployment): its metadata, its relations both ways as links, and its
audit trail with proof status. Models and model versions have pages of their own
(web/models.py): their refs redirect there.

:func:`asset_url` is every page's way to link an asset (a Jinja filter, ``ref|asset_url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.governance import Principal
from modelatlas.registry import Registry, Relation
from modelatlas.web import session as _session
from modelatlas.web._asset_trail import audit_trail
from modelatlas.web._model_views import STAGE_BADGES
from modelatlas.web._render import TEMPLATES, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RELATION_LIMIT = 100


def asset_url(ref: str) -> str | None:
    """The page of ``ref``; ``None`` for what has no page (a redacted step or lineage
    token: ``environment:redacted``, ``redacted:3``)."""
    kind, sep, rest = ref.partition(":")
    namespace, slash, name_version = rest.partition("/")
    if not sep or not slash or kind == "redacted":
        return None
    name, at, version = name_version.rpartition("@")
    if not at:
        name, version = name_version, ""
    if kind == "model" and not version:
        return f"/models/{quote(namespace)}/{quote(name)}"
    if kind == "model_version" and version:
        return f"/models/{quote(namespace)}/{quote(name)}/versions/{quote(version)}"
    return "/assets/" + quote(ref, safe=":/@")


def lineage_url(ref: str) -> str:
    """The lineage explorer centred on ``ref``."""
    return "/lineage?" + urlencode({"ref": ref})


TEMPLATES.env.filters["asset_url"] = asset_url
TEMPLATES.env.filters["lineage_url"] = lineage_url
TEMPLATES.env.globals["stage_badges"] = STAGE_BADGES


@dataclass(frozen=True)
class Edges:
    """An asset's relations: what it points at, what points at it, and whether either list
    was cut at :data:`RELATION_LIMIT`."""

    outgoing: list[Relation]
    incoming: list[Relation]
    more: bool


def edges_of(registry: Registry, ref: str, principal: Principal) -> Edges:
    out = registry.relations(ref, direction="out", limit=RELATION_LIMIT, principal=principal)
    into = registry.relations(ref, direction="in", limit=RELATION_LIMIT, principal=principal)
    return Edges(out.items, into.items, bool(out.next_cursor or into.next_cursor))


@router.get("/assets/{ref:path}")
def asset_page(request: Request, ref: str, principal: _session.PagePrincipal,
               registry: _session.PageRegistry, trail: str | None = None) -> Response:
    asset = registry.get_asset(ref, principal=principal)  # 404 page: missing or unreadable
    if asset.kind in ("model", "model_version"):
        target = asset_url(asset.ref)
        if target is not None:
            return RedirectResponse(target, status_code=303)
    context: dict[str, Any] = {
        "asset": asset,
        "edges": edges_of(registry, asset.ref, principal),
        "trail": audit_trail(registry, asset.ref, principal=principal, cursor=trail),
    }
    return render(request, "asset.html", context)
