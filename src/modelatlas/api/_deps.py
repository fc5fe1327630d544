"""What every router shares: the registry, the authenticated caller, paging, and error
locations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request, Response

from modelatlas.api.problems import problem_response
from modelatlas.config import Settings
from modelatlas.errors import FieldError, ModelAtlasError, Unauthenticated
from modelatlas.governance import Principal
from modelatlas.governance.authn import Network, is_trusted, trusted_networks
from modelatlas.registry import Registry
from modelatlas.web.session import SESSION_COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD"})

API_PREFIX = "/api/v1"


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_principal(request: Request) -> Principal:
    """Who is calling, from a verified credential only.

    ``Authorization: Bearer`` carries an API token (``mat_...``) or an OIDC JWT. Without
    one, a read may carry the web UI's session cookie (web/session.py). Otherwise, a
    trusted proxy's identity header is believed (from a configured proxy address, never
    from anyone else); otherwise the caller is the local single-user principal, or 401
    when authentication is required. A bad credential is 401 even when authentication is
    not required: a caller who sent one meant to be someone.
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:  # authenticated before the body was read (api/strict.py)
        return known
    registry, settings = get_registry(request), get_settings(request)
    networks = _trusted(request)
    peer = request.client.host if request.client else None
    from_proxy = is_trusted(peer, networks)
    client = _client_address(request, peer, from_proxy)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("the Authorization header must read 'Bearer <token>'")
        return registry.authenticate(value.strip(), client=client)
    session = request.cookies.get(SESSION_COOKIE)
    if session and request.method in SAFE_METHODS:
        # the web UI's own scripts read the API (the lineage explorer) as the signed-in
        # person; SameSite=Strict keeps other sites' requests from carrying the cookie, and
        # writes still need a bearer token (a cookie never authorises one)
        return registry.authenticate(session, client=client)
    forwarded = request.headers.get(settings.forwarded_user_header, "").strip()
    if from_proxy and forwarded:
        return Principal(kind="user", person=forwarded)
    if settings.auth_required:
        raise Unauthenticated("authentication is required")
    return Principal.local(settings.actor)


async def _registry(request: Request) -> Registry:
    # async: a dependency that does no I/O should not cost a hop through the threadpool
    return get_registry(request)


async def get_actor(principal: Annotated[Principal, Depends(get_principal)]) -> str:
    """Who is writing: the authenticated caller's name, as events record it."""
    return principal.actor


RegistryDep = Annotated[Registry, Depends(_registry)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ActorDep = Annotated[str, Depends(get_actor)]
AUTHENTICATED = [Depends(get_principal)]  # router dependencies: every route authenticates
PUBLIC_PATHS = frozenset({"/", "/healthz"})  # the only routes an anonymous caller reaches


def _trusted(request: Request) -> tuple[Network, ...]:
    cached: tuple[Network, ...] | None = getattr(request.app.state, "trusted_proxies", None)
    if cached is None:
        cached = trusted_networks(get_settings(request))
        request.app.state.trusted_proxies = cached
    return cached


def _client_address(request: Request, peer: str | None, from_proxy: bool) -> str:
    """The address failed attempts are counted against: behind a trusted proxy, the
    address the proxy saw (the last X-Forwarded-For hop, the one it appended)."""
    if from_proxy:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        if hops and hops[-1]:
            return hops[-1]
    return peer or "unknown"


def install_auth(app: FastAPI) -> None:
    """401 answers say how to authenticate (RFC 6750 ``WWW-Authenticate: Bearer``)."""

    async def on_unauthenticated(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Unauthenticated)
        response = problem_response(exc, request.url.path)
        response.headers["WWW-Authenticate"] = 'Bearer realm="modelatlas"'
        return response

    app.add_exception_handler(Unauthenticated, on_unauthenticated)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=1, max_length=200,
        description="retrying a POST with the same key returns the first result",
    ),
]


def page_limit(default: int) -> Callable[..., Awaitable[int]]:
    """A ``limit`` query parameter, capped at ``settings.page_limit_max``."""

    async def limit_param(
        request: Request,
        limit: int = Query(default, ge=1, description="page size (capped by the server)"),
    ) -> int:
        return min(limit, get_settings(request).page_limit_max)

    return limit_param


@contextmanager
def located(
    *, path: tuple[str, ...] = (), query: tuple[str, ...] = (), **renames: str
) -> Iterator[None]:
    """The service names every field as a body pointer (``/cursor``); when the field came
    from the path or the query string, say so (``query/cursor``)."""
    where = {f"/{name}": f"path/{name}" for name in path}
    where.update({f"/{name}": f"query/{name}" for name in query})
    where.update({f"/{old}": new for old, new in renames.items()})
    try:
        yield
    except ModelAtlasError as exc:
        exc.errors = [FieldError(where.get(e.path, e.path), e.message) for e in exc.errors]
        raise
