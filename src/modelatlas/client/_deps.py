"""``client.deps``: requirements, compatibility checks, co-deployment resolution, why.

Files are read here, on the caller's machine (:func:`modelatlas.deps.sources.read_requirements`),
and sent as structured requirements with their file and line: the registry never reads a
client's paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.deps.model import Requirements
from modelatlas.deps.pins import parse_pin
from modelatlas.deps.sources import parse_pip_freeze, read_requirements
from modelatlas.errors import InvalidInput
from modelatlas.registry import (
    CheckRequest,
    CheckResult,
    EnvironmentIn,
    ModelRequirements,
    Page,
    RequirementsIn,
    ResolutionOut,
    ResolveRequest,
    WhyRequest,
    WhyResult,
)
from modelatlas.registry.impact_types import ImpactChange, ImpactReport, RevalidationMark

RequirementsArg = RequirementsIn | Requirements | Mapping[str, Any] | Path
IndexArg = str | Path | None


def requirements_from_file(path: str | Path, *, extras: Iterable[str] = ()) -> RequirementsIn:
    """Read a requirements file, ``pyproject.toml``, conda environment or MLflow model
    directory into what the registry takes, keeping each requirement's file and line."""
    return RequirementsIn.from_domain(read_requirements(Path(path), extras=extras))


def environment_from_freeze(
    text: str, *, python: str | None = None, name: str = "pip-freeze", file: str = "pip freeze",
    platform: str = "linux", machine: str = "x86_64",
) -> EnvironmentIn:
    """An inline check target from ``pip freeze`` output: its ``==`` pins, ``python`` (a
    full version, e.g. ``3.11.7``) and platform."""
    pins = dict(pin for req in parse_pip_freeze(text, file=file)
                if (pin := parse_pin(f"{req.name}{req.specifier}")) is not None)
    return _validated(EnvironmentIn, {"name": name, "python": python, "packages": pins,
                                      "platform": platform, "machine": machine})


def _requirements(value: RequirementsArg) -> RequirementsIn:
    if isinstance(value, RequirementsIn):
        return value
    if isinstance(value, Requirements):
        return RequirementsIn.from_domain(value)
    if isinstance(value, Path):
        return requirements_from_file(value)
    return _validated(RequirementsIn, value)


def _index(index: IndexArg) -> tuple[str | None, str]:
    """A snapshot's text and how conflicts cite it: a Path is read here; a str is text."""
    if index is None:
        return None, "index.txt"
    if isinstance(index, Path):
        try:
            return index.read_text(encoding="utf-8"), index.name
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput.at(str(index), f"cannot read the index snapshot: {exc}") from None
    return index, "index.txt"


class DepsAPI:
    """``client.deps``: what model versions require and whether they fit together."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def requirements(self, ref: str) -> ModelRequirements:
        """What model version ``ref`` declares it needs, each requirement with its origin."""
        return self._t.deps_requirements(ref)

    def set_requirements(self, ref: str, requirements: RequirementsArg) -> ModelRequirements:
        """Replace ``ref``'s requirements: a :class:`RequirementsIn`, a dict of its fields,
        requirements read with :mod:`modelatlas.deps.sources`, or a file to read here."""
        return self._t.set_requirements(ref, _requirements(requirements))

    def read(self, path: str | Path, *, extras: Iterable[str] = ()) -> RequirementsIn:
        """Read requirements from a local file (for ``register_version(requirements=...)``)."""
        return requirements_from_file(path, extras=extras)

    def check(
        self,
        ref: str,
        target: str | None = None,
        *,
        environment: EnvironmentIn | Mapping[str, Any] | None = None,
    ) -> CheckResult:
        """Check ``ref`` against an environment or deployment ``target``, or an inline
        ``environment`` (see :func:`environment_from_freeze`)."""
        env = environment
        if env is not None and not isinstance(env, EnvironmentIn):
            env = _validated(EnvironmentIn, env)
        body = _validated(CheckRequest, {"ref": ref, "target": target, "environment": env})
        return self._t.deps_check(body)

    def resolve(
        self,
        refs: Sequence[str],
        *,
        index: IndexArg = None,
        python: str | None = None,
        platform: str = "linux",
        machine: str = "x86_64",
    ) -> ResolutionOut:
        """One version per package for all of ``refs``; ``index`` is a snapshot file
        (Path) or its text. A conflict is in the answer (``ok`` False), not raised."""
        text, file = _index(index)
        body = _validated(ResolveRequest, {
            "refs": list(refs), "index_snapshot": text, "index_file": file, "python": python,
            "platform": platform, "machine": machine,
        })
        return self._t.deps_resolve(body)

    def why(
        self,
        ref: str,
        package: str,
        *,
        index: IndexArg = None,
        python: str | None = None,
        platform: str = "linux",
    ) -> WhyResult:
        """The declarations and dependency chains that bring ``package`` into ``ref``."""
        text, file = _index(index)
        body = _validated(WhyRequest, {
            "ref": ref, "package": package, "index_snapshot": text, "index_file": file,
            "python": python, "platform": platform,
        })
        return self._t.deps_why(body)

    def impact(self, change: ImpactChange | Mapping[str, Any]) -> ImpactReport:
        """What a change would break: a package upgrade in an environment
        (``{"environment", "package", "to"}``), a registered asset version
        (``{"asset"}``), or a proposed schema (``{"schema", "fields"}``); see
        :class:`ImpactChange`."""
        body = change if isinstance(change, ImpactChange) else _validated(ImpactChange, change)
        return self._t.deps_impact(body)

    def revalidation(
        self, ref: str | None = None, *, cursor: str | None = None, limit: int = 100
    ) -> Page[RevalidationMark]:
        """Deployed model versions whose dependencies changed since they were validated
        (only ``ref``'s marks when given), one page at a time."""
        return self._t.deps_revalidation(_given(ref=ref, cursor=cursor, limit=limit))
