"""The model page (``/models/{namespace}/{name}``: metadata, aliases, the versions with
their stages and a side-by-side metric comparison) and the version page
(``.../versions/{version}``: artifacts, run, requirements checked against a target,
evaluations, deployments, reviews and release notes, deprecation, audit trail).

Every read is a service call as the signed-in person, so a model or version the person may
not read is the 404 page, as on the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.errors import ModelAtlasError
from modelatlas.governance import Principal
from modelatlas.refs import Ref
from modelatlas.registry import Asset, CheckResult, Registry
from modelatlas.registry.provenance_types import ProvenanceReport
from modelatlas.web import session as _session
from modelatlas.web._asset_trail import audit_trail
from modelatlas.web._model_views import metric_table, requirement_rows
from modelatlas.web._render import PageRoute, render
from modelatlas.web.assets import asset_url, edges_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

VERSIONS_PER_PAGE = 50
MOST_COMPARED = 20
EVALUATIONS_SHOWN = 10
T = TypeVar("T")

@router.get("/models/{namespace}/{name}")
def model_page(
    request: Request, namespace: str, name: str, principal: _session.PagePrincipal,
    registry: _session.PageRegistry,
    compare: Annotated[list[str] | None, Query(max_length=MOST_COMPARED)] = None,
    cursor: str | None = None, trail: str | None = None,
) -> Response:
    model = registry.get_asset(Ref.of("model", namespace, name), principal=principal)
    versions = registry.list_versions(namespace, name, cursor=cursor, limit=VERSIONS_PER_PAGE,
                                      principal=principal)
    chosen = set(compare or ())
    selected = [v for v in versions.items if v.version in chosen]
    aliases: dict[str, list[str]] = {}
    for alias in registry.aliases(namespace, name, principal=principal).items:
        aliases.setdefault(alias.version, []).append(alias.alias)
    context: dict[str, Any] = {
        "model": model,
        "versions": versions,
        "aliases": aliases,
        "chosen": chosen,
        "too_few": compare is not None and len(selected) < 2,
        "comparison": metric_table(selected if len(selected) >= 2 else versions.items),
        "trail": audit_trail(registry, model.ref, principal=principal, cursor=trail),
    }
    return render(request, "model.html", context)


@router.get("/models/{namespace}/{name}/versions/{version}")
def version_page(
    request: Request, namespace: str, name: str, version: str,
    principal: _session.PagePrincipal, registry: _session.PageRegistry,
    trail: str | None = None,
) -> Response:
    ref = Ref.of("model_version", namespace, name, version)
    asset = registry.get_asset(ref, principal=principal)  # an alias names a version too
    if asset.version != version:
        return RedirectResponse(asset_url(asset.ref) or "/", status_code=303)
    context = _version_context(registry, asset, principal)
    context["trail"] = audit_trail(registry, asset.ref, principal=principal, cursor=trail)
    return render(request, "version.html", context)


def _version_context(registry: Registry, asset: Asset, principal: Principal) -> dict[str, Any]:
    namespace, name, number = asset.namespace, asset.name, asset.version or ""
    report = registry.provenance_report(asset.ref, principal=principal)
    edges = edges_of(registry, asset.ref, principal)
    check, check_error = _attempt(lambda: _check(registry, asset, report, principal))
    promotion, promotion_error = _attempt(
        lambda: registry.promotion_status(namespace, name, number, principal=principal))
    return {
        "asset": asset,
        "model_ref": str(Ref.of("model", namespace, name)),
        "deprecation": registry.deprecation_notice(asset.ref),  # read above: no check due
        "report": report,
        "edges": edges,
        "requirements": requirement_rows(
            registry.requirements(asset.ref, principal=principal), check),
        "check": check,
        "check_error": check_error,
        "marks": registry.revalidation_marks(asset.ref, limit=20, principal=principal).items,
        "evaluations": _evaluations(registry, [e.source for e in edges.incoming
                                               if e.relation == "evaluated"], principal),
        "traffic": {e.source: e.properties.get("traffic_percent")
                    for e in edges.incoming if e.relation == "serves"},
        "reviews": registry.version_reviews(namespace, name, number, limit=100,
                                            principal=principal),
        "promotion": promotion,
        "promotion_error": promotion_error,
    }


def _attempt(work: Callable[[], T]) -> tuple[T | None, str | None]:
    """A section that may not be answerable (no target to check against, a policy target
    that is gone): the page shows why instead of failing whole."""
    try:
        return work(), None
    except ModelAtlasError as exc:
        return None, exc.detail


def _check(registry: Registry, asset: Asset, report: ProvenanceReport,
           principal: Principal) -> CheckResult | None:
    """The dependency check against the namespace's promotion target when its policy names
    one, else against the environment the version was trained in; ``None`` without
    either."""
    target = registry.promotion_policy(asset.namespace, principal=principal).deps_target
    if target is None:
        # a step the person may not read is redacted in the report (kind:redacted)
        trained_in = [env.ref for run in report.runs for env in run.environments
                      if asset_url(env.ref) is not None]
        target = trained_in[0] if trained_in else None
    if target is None:
        return None
    return registry.check(asset.ref, target, principal=principal)


def _evaluations(registry: Registry, refs: list[str], principal: Principal) -> list[Asset]:
    # no batch read of assets by ref exists: a version has a handful of evaluations, and
    # the page shows at most EVALUATIONS_SHOWN of them
    return [registry.get_asset(ref, principal=principal) for ref in refs[:EVALUATIONS_SHOWN]]
