"""The organisation of :mod:`search_org` in each test's registry, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from search_org import Find, build_org, finder

from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry


@pytest.fixture
def org(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    """This test's copy of the organisation (built once per process and backend)."""
    return worlds(build_org)[0]


@pytest.fixture
def find(org: Registry) -> Find:
    """Every ref a query finds in ``org`` (following cursors, checking none repeats)."""
    return finder(org)


@pytest.fixture
def readers(org: Registry) -> tuple[Principal, Principal]:
    """Two callers whose read rules differ: vic reads fraud and finance, una only fraud."""
    for person, spaces in (("vic", ("fraud", "finance")), ("una", ("fraud",))):
        for space in spaces:
            org.grant_role(space, {"principal_type": "user", "principal_name": person,
                                   "role": "viewer"})
    return Principal(kind="user", person="vic"), Principal(kind="user", person="una")
