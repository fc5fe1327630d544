"""Test worlds: built once per test process and backend, then copied for each test, or
shared by a module whose tests only read (tests/conftest.py gives them as fixtures)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from modelatlas.config import Settings
from modelatlas.registry import Registry
from modelatlas.testing import PostgresDatabases

T = TypeVar("T")


class Worlds:
    """Test worlds built once per test process and backend, then copied for each test.

    Many tests read the same prepared registry (teams, grants, a small graph) and differ
    only in the caller. Building it costs seconds on PostgreSQL; copying it costs a
    ``CREATE DATABASE ... TEMPLATE`` (or a file copy on SQLite). Each test still gets its
    own copy, so what one test writes (denials are events) no other test sees.
    """

    def __init__(self, root: Path, sqlite_template: Path,
                 postgres: PostgresDatabases | None) -> None:
        self._root = root
        self._sqlite_template = sqlite_template
        self._postgres = postgres
        # (builder, backend) -> (home folder, PostgreSQL template database, what it returned)
        self._built: dict[tuple[str, str], tuple[Path, str | None, Any]] = {}
        self._shared = itertools.count()

    def restore(self, build: Callable[[Registry], T], settings: Settings) -> tuple[Registry, T]:
        """A registry over ``settings`` holding a copy of the world ``build`` makes, and
        what ``build`` returned (built on the first call for this backend)."""
        url = settings.resolved_database_url()
        backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        key = (f"{build.__module__}.{build.__qualname__}", backend)
        if key not in self._built:
            self._built[key] = self._build(build, settings, backend)
        home, template, data = self._built[key]
        shutil.copytree(home, settings.home, dirs_exist_ok=True)
        if template is not None:
            assert self._postgres is not None
            self._postgres.replace(url, template)
        return Registry.open(settings), data

    @contextmanager
    def shared(self, backend: str, build: Callable[[Registry], Any]) -> Iterator[Registry]:
        """One registry holding ``build``'s world for a whole module, on ``backend``: for
        modules whose tests only read it (each test then costs no copy at all)."""
        home = self._root / f"shared-{next(self._shared)}"
        home.mkdir()
        url = f"sqlite:///{home / 'registry.db'}"
        if backend == "sqlite":
            shutil.copyfile(self._sqlite_template, home / "registry.db")
        elif self._postgres is None:
            pytest.skip("no PostgreSQL server: set MODELATLAS_TEST_POSTGRES_URL")
        else:
            url = self._postgres.create()
        registry = Registry.open(Settings(home=home, database_url=url, actor="tester"))
        try:
            build(registry)
            yield registry
        finally:
            registry.close()
            if backend == "postgresql" and self._postgres is not None:
                self._postgres.drop(url)

    def _build(self, build: Callable[[Registry], Any], settings: Settings,
               backend: str) -> tuple[Path, str | None, Any]:
        home = self._root / f"world-{len(self._built)}"
        home.mkdir()
        template: str | None = None
        if backend == "sqlite":
            shutil.copyfile(self._sqlite_template, home / "registry.db")
            url = f"sqlite:///{home / 'registry.db'}"
        else:
            assert self._postgres is not None
            url = self._postgres.create()
            template = sa.make_url(url).database
        registry = Registry.open(settings.model_copy(update={"home": home,
                                                             "database_url": url}))
        try:
            data = build(registry)
        finally:
            registry.close()  # a template database must have no connections
        return home, template, data
