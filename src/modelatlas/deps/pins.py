"""Pins: ``name==version`` lines, as environments list what they have installed, and the
environment an ``environment`` asset's metadata describes."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from modelatlas.deps.check import marker_environment
from modelatlas.deps.model import Environment

_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


@lru_cache(maxsize=65_536)
def parse_pin(text: str) -> tuple[str, str] | None:
    """``(canonical name, version)`` of an exact pin (``numpy==1.26.4``, ``x===1.0``), or
    None for anything else (ranges, wildcards, unparseable text). Cached: every check
    reads the environment's few hundred pins, and the same pins recur across calls."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    specs = list(requirement.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return canonicalize_name(requirement.name), specs[0].version


def environment_from_meta(name: str, meta: Mapping[str, Any]) -> Environment:
    """An environment asset's metadata as an :class:`Environment`: its ``name==version``
    packages become the installed versions (anything else there is not a pin, and is
    left out); ``platform`` is a ``sys.platform`` value or ``linux/arm64``. Checks, impact
    and revalidation all read environments through here, so they judge markers alike."""
    pins: dict[str, str] = {}
    for text in meta.get("packages") or ():
        pin = parse_pin(str(text))
        if pin is not None:
            pins[pin[0]] = pin[1]
    platform, _, machine = str(meta.get("platform") or "linux").partition("/")
    return Environment(
        name=name, python=meta.get("python"), packages=pins, platform=platform,
        machine=_MACHINES.get(machine, machine) or "x86_64",
        accelerator=meta.get("accelerator") or "cpu", cuda=meta.get("cuda"),
        image=meta.get("image"),
    )


def markers_of(meta: Mapping[str, Any]) -> dict[str, str]:
    """The PEP 508 marker environment of an environment asset's metadata."""
    env = environment_from_meta("", meta)
    return marker_environment(env.python, env.platform, env.machine)
