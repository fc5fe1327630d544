"""The ``corpus`` fixture: the same assets on each backend, written through the service layer;
the query tables in the tests then hold for both, which is what "the same data gives the same
result set on SQLite and PostgreSQL" means here."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fulltext_corpus import build_corpus

from modelatlas.registry import Registry


@pytest.fixture
def corpus(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    """This test's copy of the corpus (built once per process and backend); the modules
    whose tests only read it share one per backend instead."""
    return worlds(build_corpus)[0]
