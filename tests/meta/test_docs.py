"""Every setting, route and CLI command is documented (as datasette's tests/test_docs.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from modelatlas.api import create_app
from modelatlas.cli import app as cli_app
from modelatlas.config import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    missing = [f"MODELATLAS_{name.upper()}" for name in Settings.model_fields
               if f"`MODELATLAS_{name.upper()}`" not in text]
    assert not missing, f"document these in docs/operations.md: {missing}"


def test_every_route_is_documented(tmp_path: Path) -> None:
    text = (DOCS / "api.md").read_text()
    paths = create_app(Settings(home=tmp_path)).openapi()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method in operations
        if f"| {method.upper()} | `{path}` |" not in text
    ]
    assert not missing, f"add these rows to docs/api.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    group = typer.main.get_command(cli_app)
    commands = sorted(group.commands)  # type: ignore[attr-defined]
    assert len(commands) >= 8
    missing = [name for name in commands if f"`modelatlas {name}" not in text]
    assert not missing, f"document these in docs/cli.md: {missing}"
