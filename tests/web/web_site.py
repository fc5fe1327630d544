"""What the web tests share beyond fixtures (a module of its own: every test file can
import it, which a conftest cannot promise under pytest's rootdir imports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.registry import Registry
from worlds import Worlds

# screenshots of every browser test, kept by CI as test artefacts
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@dataclass
class Site:
    """A served registry: its base URL and the registry behind it (for setting up and
    checking what the browser did)."""

    url: str
    registry: Registry


@contextmanager
def serving(home: Path, world: Callable[[Settings], Registry],
            **settings: Any) -> Iterator[Site]:
    """A real server over the registry ``world`` opens in ``home`` (SQLite) with
    ``settings``; closed when the block ends."""
    registry = world(Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}",
                              actor="tester", **settings))
    try:
        with running_server(create_app(registry=registry)) as url:
            yield Site(url, registry)
    finally:
        registry.close()


def restored(world_cache: Worlds, build: Callable[[Registry], Any]) -> Callable[
        [Settings], Registry]:
    """A ``world`` for :func:`serving`: a copy of ``build``'s world (built once a process)."""
    return lambda settings: world_cache.restore(build, settings)[0]
