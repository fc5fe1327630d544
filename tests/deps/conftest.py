"""Fixtures of the deps tests."""

from __future__ import annotations

import pytest
from deps_impact_world import build

from modelatlas.registry import Registry


@pytest.fixture
def world(registry: Registry) -> Registry:
    """The registry holding the impact story of :mod:`deps_impact_world`."""
    build(registry)
    return registry
