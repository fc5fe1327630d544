"""Questions about PEP 440 specifier sets that ``packaging`` does not answer directly.

Used by search (``requires:pkg:numpy<2``) and dependency analysis alike, so it sits at the
bottom of the layers.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


@lru_cache(maxsize=4096)
def overlaps(a: str, b: str) -> bool:
    """Whether some final release satisfies both specifier sets (``<2`` and ``>=1.24``
    overlap; ``<2`` and ``>=2`` do not). An unparseable set overlaps nothing.

    Decided on candidate versions rather than by interval algebra: every version the two
    sets name, one patch above each, the next minor and major of each, 0 and a far future
    version. A set is a conjunction of comparisons against those versions, so where two
    sets overlap, one of the candidates lies in the overlap (wildcards ``==1.26.*`` name
    1.26, and ``~=`` names its own lower bound)."""
    try:
        first, second = SpecifierSet(a), SpecifierSet(b)
    except InvalidSpecifier:
        return False
    return any(v in first and v in second for v in _candidates(first, second))


def _candidates(*sets: SpecifierSet) -> set[Version]:
    found = {Version("0"), Version("99999")}
    for spec in (s for specifiers in sets for s in specifiers):
        text = spec.version.removesuffix(".*")
        try:
            version = Version(text)
        except InvalidVersion:
            continue  # '===' with an arbitrary string
        found.add(Version(version.base_version))
        release = list(version.release)
        found.add(Version(".".join(map(str, [*release, 1]))))
        for position in range(min(len(release), 3)):
            bumped = [*release[:position], release[position] + 1]
            found.add(Version(".".join(map(str, bumped))))
    return found
