"""The attestation CLI tests' runner: ``modelatlas`` through CliRunner against a local
registry or, over HTTP, a real server on the same database (a module of its own, not
conftest, so test files can import it by a unique name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.cli import app
from modelatlas.config import Settings
from modelatlas.registry import Registry


class Cli:
    def __init__(self, home: Path, database_url: str, url: str | None) -> None:
        self.home, self.database_url = home, database_url
        self.env = {"MODELATLAS_HOME": str(home), "MODELATLAS_DATABASE_URL": database_url,
                    "MODELATLAS_ACTOR": "tester", "MODELATLAS_URL": url, "COLUMNS": "250"}

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (
            f"modelatlas {' '.join(args)} exited {result.exit_code}, not {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    def registry(self) -> Registry:
        return Registry.open(Settings(home=self.home, database_url=self.database_url,
                                      actor="arranger"))


def cli_fixture(request: pytest.FixtureRequest, tmp_path: Path,
                database_url: str) -> Iterator[Cli]:
    home = tmp_path / "home"
    if request.param == "local":
        yield Cli(home, database_url, None)
        return
    settings = Settings(home=home, database_url=database_url, actor="server")
    registry = Registry.open(settings)
    try:
        with running_server(create_app(settings, registry)) as url:
            yield Cli(home, database_url, url)
    finally:
        registry.close()
