"""Pins: ``name==version`` lines, as environments list what they have installed."""

from __future__ import annotations

from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


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
