"""The organisation of :mod:`search_org` in each test's registry, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from search_org import Find, build_org, finder

from modelatlas.registry import Registry


@pytest.fixture
def org(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    """This test's copy of the organisation (built once per process and backend)."""
    return worlds(build_org)[0]


@pytest.fixture
def find(org: Registry) -> Find:
    """Every ref a query finds in ``org`` (following cursors, checking none repeats)."""
    return finder(org)
