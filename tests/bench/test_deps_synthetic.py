"""The synthetic package universe of bench/deps_synthetic.py resolves, soundly."""

from __future__ import annotations

import time

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from deps_synthetic import synthetic_index, synthetic_requesters
from modelatlas.deps.resolve import resolve


def test_ten_models_of_fifty_packages_over_a_large_index_resolve() -> None:
    idx = synthetic_index()
    assert len(idx) == 500 * 20
    requesters = synthetic_requesters(idx)
    started = time.perf_counter()
    result = resolve(requesters, idx, python="3.11")
    elapsed = time.perf_counter() - started
    print(f"resolved {len(result.pins)} packages in {elapsed:.3f}s")
    assert result.ok, [c.message for c in result.conflicts]
    wanted = {r.name for _, reqs in requesters for r in reqs.packages}
    assert wanted <= set(result.pins)
    # Soundness: every pinned release's dependencies and every model's bounds hold.
    for name, version in result.pins.items():
        release = idx.release(name, Version(version))
        assert release is not None
        for dep in release.requires:
            assert Version(result.pins[dep.name]) in SpecifierSet(dep.specifier)
    for _, reqs in requesters:
        for r in reqs.packages:
            assert Version(result.pins[r.name]) in SpecifierSet(r.specifier)
