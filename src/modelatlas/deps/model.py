"""The values the dependency domain passes around: what a model version requires, where each
requirement was declared, and what an environment provides.

Plain frozen dataclasses so that parsing, checking, resolving and impact analysis can be
written and tested without a database; the service layer stores and loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Accelerator = Literal["cpu", "gpu", "tpu"]


@dataclass(frozen=True)
class Origin:
    """Where a requirement was declared: a file (as the user named it, relative to the
    directory read) and a 1-based line, or a field of an API request (``line`` None)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True)
class PackageRequirement:
    """One PEP 508 requirement. ``name`` is canonicalised (``packaging.utils``);
    ``specifier`` is a PEP 440 specifier set as text (``""`` for any version)."""

    name: str
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    hashes: tuple[str, ...] = ()
    origin: Origin = field(default_factory=lambda: Origin("request"))

    def __str__(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        text = f"{self.name}{extras}{self.specifier}"
        if self.url:
            text = f"{self.name}{extras} @ {self.url}"
        return f"{text}; {self.marker}" if self.marker else text


@dataclass(frozen=True)
class AssetRequirement:
    """A registry asset a model version needs: ``ref`` without a version
    (``feature:fraud/txn-aggregates``) and a constraint on its version (``>=2,<3``; ``""``
    for any). Versions of registry assets are integers, compared as PEP 440 versions."""

    ref: str
    specifier: str = ""
    origin: Origin = field(default_factory=lambda: Origin("request"))


@dataclass(frozen=True)
class Requirements:
    """Everything one model version declares it needs to run."""

    python: str | None = None  # a specifier on the Python version, e.g. ">=3.10,<3.13"
    packages: tuple[PackageRequirement, ...] = ()
    image: str | None = None
    accelerator: Accelerator | None = None
    cuda: str | None = None  # a specifier on the CUDA version, e.g. ">=12.1"
    assets: tuple[AssetRequirement, ...] = ()
    input_schema: str | None = None  # a schema ref with version
    output_schema: str | None = None
    python_origin: Origin | None = None


@dataclass(frozen=True)
class Environment:
    """What a deployment target or environment provides. ``packages`` maps canonical names
    to installed versions; ``python`` is a full version (``3.11.7``); ``platform`` is a
    ``sys.platform`` value (``linux``) used with ``machine`` to evaluate markers."""

    name: str
    python: str | None = None
    packages: dict[str, str] = field(default_factory=dict)
    platform: str = "linux"
    machine: str = "x86_64"
    accelerator: Accelerator = "cpu"
    cuda: str | None = None
    image: str | None = None
