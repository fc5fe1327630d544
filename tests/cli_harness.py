"""The one way our tests run the ``modelatlas`` CLI: Typer's CliRunner with the settings a
user would export, against the local registry or, with MODELATLAS_URL set, a real HTTP
server on the same database.

The ``cli`` fixture in tests/conftest.py gives a :class:`Cli` once per transport; a test that
needs something else (a home it shares with other fixtures, a bad database URL, a server of
its own) builds one here. Import it as ``from cli_harness import Cli``: tests/ is on
sys.path because tests/conftest.py lives there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.cli import app
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.registry import Registry

TRANSPORTS = ["local", "http"]
# Wide enough that tables never fold a ref across lines (rich reads COLUMNS).
COLUMNS = "250"


class Cli:
    """``modelatlas`` with MODELATLAS_HOME, MODELATLAS_DATABASE_URL, MODELATLAS_ACTOR and
    MODELATLAS_URL set; a ``None`` database URL or URL is removed from the environment,
    so nothing leaks in from the shell that runs the tests."""

    def __init__(self, home: Path, database_url: str | None, url: str | None = None,
                 *, prefix: tuple[str, ...] = ()) -> None:
        self.home, self.database_url, self.url, self.prefix = home, database_url, url, prefix
        self.env: dict[str, str | None] = {
            "MODELATLAS_HOME": str(home), "MODELATLAS_DATABASE_URL": database_url,
            "MODELATLAS_ACTOR": "tester", "MODELATLAS_URL": url, "COLUMNS": COLUMNS}

    def __call__(self, *args: str, code: int = 0) -> Result:
        """Run ``modelatlas ARGS``; fail the test, showing both streams, unless it exits
        with ``code``."""
        argv = [*self.prefix, *args]
        result = CliRunner().invoke(app, argv, env=self.env)
        assert result.exit_code == code, (
            f"modelatlas {' '.join(argv)} exited {result.exit_code}, not {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    def sub(self, *words: str) -> Cli:
        """The same CLI with ``words`` before every call's arguments: ``cli.sub("lineage")``
        runs ``modelatlas lineage ARGS``."""
        return Cli(self.home, self.database_url, self.url, prefix=(*self.prefix, *words))

    def client(self) -> Client:
        """An in-process client on the same registry, to arrange what a test needs."""
        return Client.local(self.home, database_url=self.database_url, actor="arranger")

    @contextmanager
    def registry(self) -> Iterator[Registry]:
        """The same registry through the service layer, for arrangements the SDK cannot
        make (closed when the block ends)."""
        registry = Registry.open(self._settings("arranger"))
        try:
            yield registry
        finally:
            registry.close()

    @contextmanager
    def over(self, transport: str) -> Iterator[Cli]:
        """This CLI as it is (``local``), or pointed at a real server on the same home and
        database (``http``) for the length of the block."""
        if transport == "local":
            yield self
            return
        assert transport == "http", transport
        registry = Registry.open(self._settings("server"))
        try:
            with running_server(create_app(registry.settings, registry)) as url:
                yield Cli(self.home, self.database_url, url, prefix=self.prefix)
        finally:
            registry.close()

    def _settings(self, actor: str) -> Settings:
        return Settings(home=self.home, database_url=self.database_url, actor=actor)


def one_line_error(stderr: str) -> str:
    """The single ``error: ...`` line a user error prints, with no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]
