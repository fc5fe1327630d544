"""Real stores for every test: SQLite in a temporary folder and a fresh PostgreSQL
database per test (cloned from a migrated template on the throwaway cluster that
`make test` starts and names in MODELATLAS_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cli_harness import TRANSPORTS, Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.registry import Registry
from modelatlas.testing import PostgresDatabases
from worlds import Worlds

BACKENDS = ["sqlite", "postgresql"]
T = TypeVar("T")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make ``--dist loadgroup`` (make test) group again. In a worker, pytest-xdist 3.8 names
    each ``xdist_group`` test ``<id>@<group>`` by setting ``item._nodeid``, which pytest 9 no
    longer reads (the id lives in ``item._id``): without this the groups are silently
    ignored and every worker runs its share of a group (and starts its costly fixture)."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest 8 reads item._nodeid itself
        return
    for item in items:
        suffixed = item.__dict__.get("_nodeid")
        if isinstance(suffixed, str) and suffixed != item.nodeid:
            item._id = NodeId.parse(suffixed)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    url = os.environ.get("MODELATLAS_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("MODELATLAS_TEST_POSTGRES_URL is not set: run the suite with `make test`")
        yield None
        return
    dbs = PostgresDatabases(url)
    yield dbs
    dbs.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite registry migrated once per test process: a copy costs ~30 ms, running
    every migration again ~150 ms, for each of well over a thousand tests."""
    home = tmp_path_factory.mktemp("sqlite-template")
    path = home / "registry.db"
    Registry.open(Settings(home=home, database_url=f"sqlite:///{path}")).close()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_databases: PostgresDatabases | None,
    sqlite_template: Path,
) -> Iterator[str]:
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        if not _restores_a_world(request):  # worlds(...) copies the world's file over it
            shutil.copyfile(sqlite_template, tmp_path / "registry.db")
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    if postgres_databases is None:
        pytest.skip("no PostgreSQL server: set MODELATLAS_TEST_POSTGRES_URL (make test does)")
    if _restores_a_world(request):
        # worlds(build) makes this database a copy of the world's template: an empty one
        # made first would be a second CREATE DATABASE (a checkpoint and a file copy) for
        # nothing. Only the name is taken here; opening it before worlds(...) fails loudly.
        url = postgres_databases.url_for(f"ma_w_{os.getpid()}_{uuid.uuid4().hex[:12]}")
    else:
        url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


# fixtures that open the test's database when they are set up (before a test's own world
# fixture could call worlds(...)): with any of them the database is created up front
_OPENERS = frozenset({"registry", "base_url", "cli", "client", "event_count", "app", "http"})


def _restores_a_world(request: pytest.FixtureRequest) -> bool:
    names = set(request.fixturenames)
    return "worlds" in names and not names & _OPENERS


@pytest.fixture(scope="session")
def world_cache(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path,
                postgres_databases: PostgresDatabases | None) -> Worlds:
    return Worlds(tmp_path_factory.mktemp("worlds"), sqlite_template, postgres_databases)


@pytest.fixture
def worlds(world_cache: Worlds, settings: Settings) -> Iterator[Callable[..., Any]]:
    """``worlds(build)``: a registry holding this test's copy of ``build``'s world, and
    what ``build`` returned. Use it instead of ``registry`` (not beside it)."""
    opened: list[Registry] = []

    def restore(build: Callable[[Registry], T]) -> tuple[Registry, T]:
        registry, data = world_cache.restore(build, settings)
        opened.append(registry)
        return registry, data

    yield restore
    for registry in opened:
        registry.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, actor="tester")


@pytest.fixture
def registry(settings: Settings) -> Iterator[Registry]:
    reg = Registry.open(settings)
    yield reg
    reg.close()


@pytest.fixture
def event_count(registry: Registry) -> Callable[[], int]:
    """How many events the registry holds: a request that writes nothing adds none."""

    def count() -> int:
        total, after = 0, 0
        while True:
            page = registry.events(after=after, limit=500)
            total += len(page.items)
            if not page.next_cursor or not page.items:
                return total
            after = page.items[-1].seq

    return count


@pytest.fixture
def base_url(settings: Settings, registry: Registry) -> Iterator[str]:
    """A real uvicorn server over the test registry (folders may override it)."""
    with running_server(create_app(settings, registry)) as url:
        yield url


@pytest.fixture(params=["http", "local"])
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Client]:
    """The same assertions must hold whichever way the SDK reaches the registry."""
    if request.param == "http":
        made = Client(request.getfixturevalue("base_url"))
    else:
        made = Client.local(settings.home, database_url=settings.database_url, actor="tester")
    with made:
        yield made


@pytest.fixture(params=TRANSPORTS)
def cli(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """``modelatlas`` on a fresh home, in-process and over HTTP to a real server."""
    with Cli(tmp_path / "home", database_url).over(request.param) as made:
        yield made


@pytest.fixture
def local_cli(tmp_path: Path, database_url: str) -> Cli:
    """``modelatlas`` on a fresh home, in-process only (what has no HTTP path)."""
    return Cli(tmp_path / "home", database_url)
