"""A synthetic package universe for the dependency benchmark (and its smoke test): packages
shaped like PyPI's, model versions that each require about fifty of them."""

from __future__ import annotations

import random

from packaging.version import Version

from modelatlas.deps.index import PackageIndex, Release
from modelatlas.deps.model import Origin, PackageRequirement, Requirements


def _popular(rng: random.Random, names: list[str], count: int) -> list[str]:
    """``count`` distinct names, the earlier ones (the popular foundations) far likelier."""
    weights = [1 / (rank + 1) for rank in range(len(names))]
    chosen: dict[str, None] = {}
    while len(chosen) < min(count, len(names)):
        chosen.update(dict.fromkeys(rng.choices(names, weights)))
    return list(chosen)[:count]


def synthetic_index(
    *, packages: int = 500, versions: int = 20, deps_per_release: int = 3, seed: int = 0
) -> PackageIndex:
    """A synthetic universe shaped like PyPI's: ``packages`` named ``pkg000``.. (low
    numbers are foundations like numpy), each with ``versions`` releases (``1.0.0`` ..
    ``4.4.0``, five per major) that depend on up to ``deps_per_release`` more foundational
    packages, popular ones likelier. Newer releases demand newer majors of their
    dependencies, so an upper bound on one package forces backtracking on others.
    Deterministic for a given seed; meant to be reused by the benchmark."""
    rng = random.Random(seed)
    names = [f"pkg{i:03d}" for i in range(packages)]
    releases = []
    for i, name in enumerate(names):
        for j in range(versions):
            major = j // 5 + 1
            requires = tuple(
                PackageRequirement(dep, f">={rng.randint(1, major)}", origin=Origin("synthetic", i))
                for dep in _popular(rng, names[:i], deps_per_release)
            )
            releases.append(Release(name, Version(f"{major}.{j % 5}.0"), requires))
    return PackageIndex(releases)


def synthetic_requesters(
    index: PackageIndex, *, models: int = 10, packages_each: int = 50, seed: int = 0
) -> list[tuple[str, Requirements]]:
    """``models`` model versions, each requiring ``packages_each`` packages of ``index``
    (popular ones likelier, so models share many) with loose bounds, some with an upper
    bound that may force backtracking."""
    rng = random.Random(seed)
    names = index.names()
    requesters = []
    for m in range(models):
        packages = tuple(
            PackageRequirement(
                name,
                rng.choice(["", ">=1", ">=2", "<4", ">=1.2,<5"]),
                origin=Origin("requirements.txt", line),
            )
            for line, name in enumerate(_popular(rng, names, packages_each), start=1)
        )
        requesters.append((f"team{m}/model@1", Requirements(packages=packages)))
    return requesters


def snapshot_text(index: PackageIndex) -> str:
    """``index`` as an index snapshot file (``name version req | req``), the form a user
    hands to ``modelatlas deps resolve --index``."""
    lines = []
    for name in index.names():
        for version in index.versions(name):
            release = index.release(name, version)
            requires = " | ".join(str(r) for r in release.requires) if release else ""
            lines.append(f"{name} {version} {requires}".rstrip())
    return "\n".join(lines) + "\n"
