"""Mount the UI on the API's application: static files and one router per page family."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from modelatlas.web import approvals, assets, lineage, models, oidc, pages, search

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # each page family is a module with a `router`; add yours here
    for module in (pages, models, assets, oidc, search, lineage, approvals):
        app.include_router(module.router)
