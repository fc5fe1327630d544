"""The ``modelatlas`` command line: Typer commands, one module per group, each a thin
layer over :class:`modelatlas.client.Client` (or the local registry for setup)."""

from modelatlas.cli import browse, demo, link, register, setup
from modelatlas.cli._app import app

__all__ = ["app", "main"]

_COMMANDS = (browse, demo, link, register, setup)  # imported for their @app.command()s


def main() -> None:
    """Entry point of the ``modelatlas`` script."""
    app()
