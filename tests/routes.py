"""Every route an app dispatches to, read from its router: the route sweeps and the
OpenAPI check walk the real app, never a hand-written list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelatlas.web._render import PageRoute


def walk_routes(routes: list[Any], *, pages: bool = False) -> Iterator[tuple[str, str]]:
    """(method, path) of every API route the app would dispatch to, or with ``pages`` of
    every web UI page (tests/web sweeps those: they answer with pages and redirects, not
    problem documents). FastAPI 0.16x keeps an included router as one entry whose
    ``effective_candidates()`` are its routes with the prefix applied: walk into them, so
    nothing included is missed."""
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if nested is not None:
            yield from walk_routes(nested(), pages=pages)
            continue
        # FastAPI wraps an included route in a context that keeps the original
        if isinstance(getattr(route, "original_route", route), PageRoute) != pages:
            continue
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            yield from ((m, path) for m in sorted(methods) if m != "HEAD")
