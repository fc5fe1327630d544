"""Is a model version compatible with an environment or deployment target?

:func:`check` compares what one model version requires (:class:`Requirements`) with what an
environment provides (:class:`Environment`) and returns every violated constraint, each with
the model version that declared it and where (``numpy 2.1.0 does not satisfy <2
(fraud/churn@7, requirements.txt:3)``). An empty list means compatible.

Markers are evaluated against the *environment's* Python and platform, never the running
interpreter's, so the answer does not depend on the machine that computes it. When the
environment's Python is unknown, a requirement whose marker mentions the Python version is
checked anyway: reporting a requirement that might not apply is safer than hiding one that
does. Asset requirements are not checked here; they are checked against the graph by the
service layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from modelatlas.deps.model import Environment, Origin, PackageRequirement, Requirements
from modelatlas.errors import InvalidInput

ViolationKind = Literal[
    "package_missing", "package_version", "python", "accelerator", "cuda", "image"
]

_PLATFORM_SYSTEM = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows", "cygwin": "CYGWIN"}
_PYTHON_MARKERS = ("python_version", "python_full_version", "implementation_version")
_MINOR = re.compile(r"^(\d+)\.(\d+)")


@dataclass(frozen=True)
class Violation:
    """One constraint an environment breaks. ``subject`` is the package name, or ``python``,
    ``accelerator``, ``cuda``, ``image``; ``owner`` the model version that declared it."""

    kind: ViolationKind
    subject: str
    message: str
    origin: Origin | None
    owner: str


def marker_environment(
    python: str | None, platform: str = "linux", machine: str = "x86_64", extra: str = ""
) -> dict[str, str]:
    """The PEP 508 marker variables of a target: a CPython ``python`` (``3.11.7`` or
    ``3.11``) on ``platform`` (a ``sys.platform`` value) and ``machine``. Every variable is
    set, so evaluation never falls back to the interpreter running this code."""
    full = python or ""
    match = _MINOR.match(full)
    minor = f"{match.group(1)}.{match.group(2)}" if match else full
    return {
        "python_version": minor,
        "python_full_version": full,
        "implementation_version": full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": platform,
        "platform_system": _PLATFORM_SYSTEM.get(platform, platform.capitalize()),
        "platform_machine": machine,
        "os_name": "nt" if platform == "win32" else "posix",
        "platform_release": "",
        "platform_version": "",
        "extra": extra,
    }


@lru_cache(maxsize=4096)
def parse_specifier(text: str) -> SpecifierSet:
    """A cached :class:`SpecifierSet` (raises ``InvalidSpecifier``): the same few
    specifiers are checked again and again."""
    return SpecifierSet(text)


@lru_cache(maxsize=4096)
def parse_marker(text: str) -> Marker:
    """A cached :class:`Marker` (raises ``InvalidMarker``)."""
    return Marker(text)


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version:
    """A cached :class:`Version` (raises ``InvalidVersion``)."""
    return Version(text)


def marker_applies(marker: str | None, environment: dict[str, str], *, where: str) -> bool:
    """Whether a requirement with ``marker`` applies in ``environment``. A marker on the
    Python version applies when the Python is unknown (``python_version`` empty)."""
    if not marker:
        return True
    try:
        parsed = parse_marker(marker)
    except InvalidMarker as exc:
        raise InvalidInput.at(where, f"invalid marker {marker!r}: {exc}") from exc
    if not environment["python_version"] and any(v in marker for v in _PYTHON_MARKERS):
        return True
    try:
        return parsed.evaluate(environment)
    except Exception as exc:  # packaging raises several types for undefined comparisons
        raise InvalidInput.at(where, f"cannot evaluate marker {marker!r}: {exc}") from exc


def check(owner: str, requirements: Requirements, env: Environment) -> list[Violation]:
    """Every constraint of ``requirements`` (declared by model version ``owner``) that
    ``env`` violates, in a stable order: Python, accelerator, CUDA, image, then packages in
    declaration order. Raises :class:`InvalidInput` for a malformed requirement (a bad
    specifier or marker), naming it; a malformed *installed* version is a violation."""
    found: list[Violation] = []
    found += _check_python(owner, requirements, env)
    found += _check_hardware(owner, requirements, env)
    found += _check_image(owner, requirements, env)
    markers = marker_environment(env.python, env.platform, env.machine)
    installed = _canonical_packages(env.packages)
    for i, req in enumerate(requirements.packages):
        where = f"/packages/{i}"
        if not marker_applies(req.marker, markers, where=f"{where}/marker"):
            continue
        violation = _check_package(owner, req, installed, where=where)
        if violation is not None:
            found.append(violation)
    return found


def _canonical_packages(packages: dict[str, str]) -> dict[str, str]:
    # Environments are stored with canonical names, but one built by hand may not be.
    if all(canonicalize_name(name) == name for name in packages):
        return packages
    return {canonicalize_name(name): version for name, version in packages.items()}


def _where(owner: str, origin: Origin | None) -> str:
    return f"{owner}, {origin}" if origin is not None else owner


def _check_package(
    owner: str, req: PackageRequirement, installed: dict[str, str], *, where: str
) -> Violation | None:
    name = canonicalize_name(req.name)
    spec = _specifier(req.specifier, where=f"{where}/specifier", origin=req.origin)
    version_text = installed.get(name)
    wanted = f"{name}{req.specifier}"
    if version_text is None:
        message = f"{name} is not installed; {owner} requires {wanted} ({req.origin})"
        return Violation("package_missing", name, message, req.origin, owner)
    if not req.specifier or req.url:
        return None  # presence is all that can be checked
    try:
        version = parse_version(version_text)
    except InvalidVersion:
        message = (
            f"{name} {version_text} is not a valid version, so it cannot satisfy "
            f"{req.specifier} ({_where(owner, req.origin)})"
        )
        return Violation("package_version", name, message, req.origin, owner)
    if spec.contains(version, prereleases=True):
        return None
    where_declared = _where(owner, req.origin)
    message = f"{name} {version_text} does not satisfy {req.specifier} ({where_declared})"
    return Violation("package_version", name, message, req.origin, owner)


def _specifier(text: str, *, where: str, origin: Origin | None) -> SpecifierSet:
    try:
        return parse_specifier(text)
    except InvalidSpecifier as exc:
        at = f" ({origin})" if origin is not None else ""
        raise InvalidInput.at(where, f"invalid version specifier {text!r}{at}") from exc


def _check_versioned(
    kind: Literal["python", "cuda"],
    owner: str,
    wanted: str,
    actual: str | None,
    origin: Origin | None,
) -> list[Violation]:
    """A version provided by the environment (Python, CUDA) against a specifier."""
    spec = _specifier(wanted, where=f"/{kind}", origin=origin)
    if actual is None:
        message = f"{kind} is not available; {owner} requires {kind}{wanted}"
        message += f" ({origin})" if origin is not None else ""
        return [Violation(kind, kind, message, origin, owner)]
    try:
        ok = spec.contains(parse_version(actual), prereleases=True)
    except InvalidVersion:
        message = f"{kind} {actual} is not a valid version, so it cannot satisfy {wanted}"
        return [Violation(kind, kind, f"{message} ({_where(owner, origin)})", origin, owner)]
    if ok:
        return []
    message = f"{kind} {actual} does not satisfy {wanted} ({_where(owner, origin)})"
    return [Violation(kind, kind, message, origin, owner)]


def _check_python(owner: str, requirements: Requirements, env: Environment) -> list[Violation]:
    if not requirements.python:
        return []
    return _check_versioned(
        "python", owner, requirements.python, env.python, requirements.python_origin
    )


def _check_hardware(owner: str, requirements: Requirements, env: Environment) -> list[Violation]:
    found: list[Violation] = []
    wanted = requirements.accelerator
    # Every machine has a CPU, so a CPU model runs anywhere; gpu and tpu must match.
    if wanted is not None and wanted != "cpu" and env.accelerator != wanted:
        message = f"accelerator {env.accelerator} does not satisfy {wanted} ({owner})"
        found.append(Violation("accelerator", "accelerator", message, None, owner))
    if requirements.cuda:
        found += _check_versioned("cuda", owner, requirements.cuda, env.cuda, None)
    return found


def _check_image(owner: str, requirements: Requirements, env: Environment) -> list[Violation]:
    wanted = requirements.image
    if not wanted or env.image == wanted:
        return []
    if env.image is None:
        message = f"no image is set; {owner} requires image {wanted}"
    else:
        message = f"image {env.image} is not the required {wanted} ({owner})"
    return [Violation("image", "image", message, None, owner)]
