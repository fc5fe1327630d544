"""Fixtures of the deps tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from deps_impact_world import build

from modelatlas.registry import Registry


@pytest.fixture
def world(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    """A registry holding this test's copy of the impact story of :mod:`deps_impact_world`
    (built once per process and backend). Not beside ``registry``: a module whose tests
    also use the test's own registry (or a server or CLI over it) overrides this."""
    return worlds(build)[0]
