"""Fixtures of the provenance tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from provenance_cli import Cli, cli_fixture


@pytest.fixture(params=["local", "http"])
def cli(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Cli]:
    yield from cli_fixture(request, tmp_path, database_url)
