"""What every command shares: the options that pick a registry, the client, the error
boundary (a ModelAtlasError becomes one line on stderr and exit 1), and JSON output."""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel

from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import ModelAtlasError
from modelatlas.registry import Registry

P = ParamSpec("P")
T = TypeVar("T")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", envvar="MODELATLAS_HOME", show_default=False,
                 help="Registry home (SQLite file, keys); default ./.modelatlas."),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="MODELATLAS_URL", show_default=False,
                 help="Talk to a `modelatlas serve` at this URL instead of the local registry."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` as one line on stderr; return the exit to raise."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    return typer.Exit(1)


def handles_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Turn a user error into its one-line diagnosis and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except ModelAtlasError as exc:
            raise fail(exc.diagnosis()) from None

    return wrapper


def settings_for(home: Path | None) -> Settings:
    """Settings from ``MODELATLAS_*``, with ``--home`` winning over the environment."""
    return Settings(home=home) if home is not None else Settings()


def open_registry(home: Path | None) -> Registry:
    """The local registry (migrated to the latest schema)."""
    return Registry.open(settings_for(home))


@contextmanager
def open_client(home: Path | None, url: str | None) -> Iterator[Client]:
    """A client over HTTP when a URL is given, else over the local registry."""
    if url:
        client = Client(url)
    else:
        client = Client.local(home)
    with client:
        yield client


def print_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Write ``value`` as indented JSON on stdout (no colour, so it pipes into jq)."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def page_json(items: list[BaseModel], next_cursor: str | None) -> dict[str, Any]:
    return {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}


def split_pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    """``["auc=0.93"]`` -> ``[("auc", "0.93")]``; a pair without ``=`` is a usage error."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        pairs.append((key.strip(), rest.strip()))
    return pairs


def scalar(text: str) -> str | int | float | bool | None:
    """A command-line value as the JSON scalar it looks like: 42, 0.1, true, null, or text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    for parse in (int, float):
        try:
            number = parse(text)
        except ValueError:
            continue
        if isinstance(number, float) and not math.isfinite(number):
            return text  # NaN and infinities are not JSON: keep the text as given
        return number
    return text
