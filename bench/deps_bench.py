"""The dependency benchmark: impact of a package upgrade across every model version,
check of one version against an environment, and resolve of ten co-deployed versions.

Builds (once, kept in bench/.work) a registry of ``--scale`` model versions, each
declaring about thirty package requirements (numpy, pandas, scikit-learn, torch with
realistic specifiers, and packages of a synthetic pool), one serving environment with
pins for all of them, and one deployment per hundred versions that serves a version and
requires the environment. Then times, through the service layer, in-process on SQLite:

- ``impact``: numpy 1.26.4 -> 2.1.0 in the environment, over the whole registry and over
  what runs in the environment (target: p95 <= 200 ms at 100k versions);
- ``check``: one version against the environment (target: p95 <= 10 ms);
- ``resolve``: ten versions of about fifty packages each over a synthetic index of 500
  packages x 20 releases (bench/deps_synthetic.py) (target: <= 1 s).

    .venv/bin/python bench/deps_bench.py --scale 100000

Figures go to ``bench/results/deps-<scale>.json`` and a section of bench/results/README.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import asset, built_once, open_registry, pct, relation, save_results
from deps_synthetic import snapshot_text, synthetic_index, synthetic_requesters
from modelatlas.deps.model import Origin, PackageRequirement, Requirements
from modelatlas.errors import NotFound
from modelatlas.refs import Ref
from modelatlas.registry import Registry
from modelatlas.registry._deps_store import write_requirements
from modelatlas.registry.bulk import bulk_load
from modelatlas.registry.types import AssetCreate, RelationCreate, VersionRegistration

BENCH = Path(__file__).resolve().parent
ENV = "environment:platform/serving-py311"
TEAMS = [f"team-{i}" for i in range(20)]
POOL = [f"pkg{i:03d}" for i in range(200)]
NUMPY_SPECS = ["<2", ">=1.24,<2", ">=1.26", "==1.26.4", ">=2", "", ">=1.22"]
PINS = {"numpy": "1.26.4", "pandas": "2.2.2", "scikit-learn": "1.5.0", "torch": "2.3.0",
        **{name: "2.0.0" for name in POOL}}
TARGETS = {"impact_p95_ms": 200.0, "check_p95_ms": 10.0, "resolve_s": 1.0}
VERSIONS_PER_MODEL = 10


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="model versions")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--work-dir", type=Path, default=BENCH / ".work")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-readme", action="store_true")
    return parser.parse_args(argv)


# the organisation -----------------------------------------------------------------------
def organisation(scale: int) -> Iterator[AssetCreate | RelationCreate]:
    """The environment, then model by model its versions; a deployment per 100 versions."""
    yield asset(ENV, metadata={"python": "3.11.7", "platform": "linux",
                                "packages": [f"{n}=={v}" for n, v in PINS.items()]})
    for i in range(max(1, scale // VERSIONS_PER_MODEL)):
        team = TEAMS[i % len(TEAMS)]
        yield asset(f"model:{team}/model-{i}")
        for j in range(1, VERSIONS_PER_MODEL + 1):
            version = f"model_version:{team}/model-{i}@{j}"
            yield asset(version, state="production" if j == VERSIONS_PER_MODEL else None)
            yield relation(version, "version_of", f"model:{team}/model-{i}")
            if (i * VERSIONS_PER_MODEL + j) % 100 == 0:
                deployment = f"deployment:{team}/serve-{i}-{j}"
                yield asset(deployment, state="active")
                yield relation(deployment, "serves", version)
                yield relation(deployment, "requires", ENV)


def requirements_of(rng: random.Random) -> Requirements:
    """About thirty packages, with the origins a requirements.txt would give."""
    names = ["numpy"] + [n for n, p in (("pandas", 0.7), ("scikit-learn", 0.5),
                                        ("torch", 0.3)) if rng.random() < p]
    names += rng.sample(POOL, 26)
    specs = {"numpy": rng.choice(NUMPY_SPECS), "pandas": rng.choice([">=2", ">=1.5,<3", ""]),
             "scikit-learn": rng.choice([">=1.3", "<1.6", ""]),
             "torch": rng.choice([">=2.1,<2.4", ">=2", ""])}
    return Requirements(python=">=3.10", packages=tuple(
        PackageRequirement(name, specs.get(name, rng.choice(["", ">=1", ">=1.2,<5", "<4"])),
                           origin=Origin("requirements.txt", line))
        for line, name in enumerate(names, start=1)))


def build(work: Path, scale: int, seed: int, *, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    def load(registry: Registry) -> dict[str, Any]:
        started = time.perf_counter()
        stats = bulk_load(registry, organisation(scale))
        declared = declare_requirements(registry, scale, seed)
        return {"assets": stats.assets, "relations": stats.relations,
                "requirements": declared, "seconds": round(time.perf_counter() - started, 1)}

    return built_once(work / f"deps-{scale}-seed{seed}", load, rebuild=rebuild)


def declare_requirements(registry: Registry, scale: int, seed: int) -> int:
    """Every version's requirements, through the store function the service uses, 2,000
    versions per transaction (one ``requirements.set`` event each, as set_requirements)."""
    rng = random.Random(seed)
    refs = [Ref.of("model_version", TEAMS[i % len(TEAMS)], f"model-{i}", j)
            for i in range(max(1, scale // VERSIONS_PER_MODEL))
            for j in range(1, VERSIONS_PER_MODEL + 1)]
    rows = 0
    for start in range(0, len(refs), 2000):
        with registry._write("bench") as tx:
            for ref in refs[start:start + 2000]:
                req = requirements_of(rng)
                write_requirements(tx, (tx.require_id(ref, "/ref"), ref), req, path="",
                                   replace=False)
                rows += len(req.packages) + 1
        print(f"  requirements of {min(start + 2000, len(refs)):,} versions", end="\r",
              file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


# timing ---------------------------------------------------------------------------------
def time_calls(call: Callable[[int], int], reps: int, warmup: int = 2) -> dict[str, Any]:
    for i in range(warmup):
        call(i)
    samples, sizes = [], []
    for i in range(reps):
        started = time.perf_counter()
        sizes.append(call(i))
        samples.append((time.perf_counter() - started) * 1000)
    return {"n": reps, "p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(pct(samples, 95), 3), "max_ms": round(max(samples), 3),
            "result_min": min(sizes), "result_max": max(sizes)}


def run(registry: Registry, scale: int, reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scope in ("registry", "environment"):
        def impact(_i: int, scope: str = scope) -> int:
            # the default page of 1,000 affected versions (truncated says there are more)
            report = registry.impact({"environment": ENV, "package": "numpy", "to": "2.1.0",
                                      "scope": scope})
            return len(report.model_versions)

        out[f"impact_numpy_2_{scope}"] = time_calls(impact, reps)
    models = max(1, scale // VERSIONS_PER_MODEL)
    rng = random.Random(1)
    picks = [Ref.of("model_version", TEAMS[i % len(TEAMS)], f"model-{i}",
                    rng.randint(1, VERSIONS_PER_MODEL))
             for i in (rng.randrange(models) for _ in range(reps + 2))]
    out["check_one_version"] = time_calls(
        lambda i: len(registry.check(picks[i], ENV).violations), reps)
    out["resolve_ten_versions"] = time_resolve(registry, max(3, reps // 10))
    for label, entry in out.items():
        print(f"  {label:<28} p50 {entry['p50_ms']:>9.3f} ms  p95 {entry['p95_ms']:>9.3f} ms"
              f"  results {entry['result_min']}-{entry['result_max']}", file=sys.stderr)
    return out


def time_resolve(registry: Registry, reps: int) -> dict[str, Any]:
    """Ten versions of ~50 packages over the synthetic index (registered on first use)."""
    index = synthetic_index()
    snapshot = snapshot_text(index)
    refs = []
    for owner, req in synthetic_requesters(index):
        namespace, name = owner.split("@")[0].split("/")
        ref = Ref.of("model_version", f"synthetic-{namespace}", name, 1)
        refs.append(str(ref))
        try:
            registry.get_asset(ref)
        except NotFound:
            registry.register_version(ref.namespace, name, VersionRegistration())
            with registry._write("bench") as tx:
                write_requirements(tx, (tx.require_id(ref, "/ref"), ref), req, path="",
                                   replace=True)

    def once(_i: int) -> int:
        result = registry.resolve({"refs": refs, "index_snapshot": snapshot,
                                   "python": "3.11"})
        if not result.ok:
            raise SystemExit(f"the synthetic resolution failed: {result.conflicts}")
        return len(result.pins)

    return time_calls(once, reps, warmup=1)


def verdicts(scale: int, out: dict[str, Any]) -> dict[str, str]:
    def mark(ok: bool, figure: str) -> str:
        return f"{'PASS' if ok else 'MISS'} ({figure})"

    impact = out["impact_numpy_2_registry"]["p95_ms"]
    check = out["check_one_version"]["p95_ms"]
    resolve = out["resolve_ten_versions"]["p95_ms"] / 1000
    return {
        f"impact across {scale:,} versions p95 <= 200 ms": mark(
            impact <= TARGETS["impact_p95_ms"], f"{impact} ms"),
        "check p95 <= 10 ms": mark(check <= TARGETS["check_p95_ms"], f"{check} ms"),
        "resolve 10 x 50 packages <= 1 s": mark(
            resolve <= TARGETS["resolve_s"], f"{resolve:.3f} s (p95)"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "scale": args.scale, "seed": args.seed, "reps": args.reps,
        "date": datetime.now(UTC).date().isoformat(),
        "command": " ".join(["bench/deps_bench.py", *(argv or sys.argv[1:])]),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
    }
    print(f"building a registry of {args.scale:,} versions with requirements", file=sys.stderr)
    home, result["load"] = build(args.work_dir, args.scale, args.seed, rebuild=args.rebuild)
    registry = open_registry(home)
    try:
        result["timings"] = run(registry, args.scale, args.reps)
    finally:
        registry.close()
    result["targets"] = verdicts(args.scale, result["timings"])
    for name, verdict in result["targets"].items():
        print(f"  {name}: {verdict}")
    save_results(args.results_dir, f"deps-{args.scale}.json", result, readme_section(result),
                 readme=not args.no_readme)
    return 0


def readme_section(result: dict[str, Any]) -> str:
    lines = [f"### Dependencies, {result['scale']:,} model versions ({result['date']})", "",
             f"`{result['command']}`. In-process service calls, SQLite; "
             f"{result['load'].get('requirements', '?'):,} requirement rows.", "",
             "| operation | p50 ms | p95 ms | results |", "| --- | ---: | ---: | ---: |"]
    for label, e in result["timings"].items():
        lines.append(f"| {label} | {e['p50_ms']:.3f} | {e['p95_ms']:.3f} | "
                     f"{e['result_min']}-{e['result_max']} |")
    lines += ["", "Targets: " + "; ".join(f"{k}: {v}" for k, v in result["targets"].items()),
              ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
