"""Audit log benchmark on SQLite: appending events with tree maintenance, inclusion proofs on
a large tree, and full verification. Every figure is given as wall time and as CPU time of
this process (``time.process_time``): the machine is shared, and CPU time is what the code
costs whatever else runs.

    python bench/audit_bench.py [--events 20000] [--singles 300] [--proof-leaves 10000000]
                                [--proof-home DIR] [--no-readme]
    python bench/audit_bench.py --verify-only [--events 1000000] [--work-dir DIR]
                                [--results-dir DIR]

- ``append``: ``append_events(conn, rows)`` (registry/_tx.py: the insert of event rows and
  the tree's extension, exactly what every write transaction runs), in transactions of
  1,000 events and of one event, with the tree's share (``integrity.log.extend``) timed.
- ``bulk_load`` and ``create_asset`` (one event per transaction, one fsync per commit):
  the loader's and the service's own cost beside the tree's.
- ``verify``: ``registry.audit_verify()`` over the events appended above. CPU time counts
  this process and the verification's forked workers (``os.times`` of waited children).
- ``--verify-only``: a log of ``--events`` events (appended as above, a signed head every
  100,000) verified three ways: ``audit_verify`` (the fast path, forked workers from
  ``fastverify.PARALLEL_FROM`` events), the fast path in one process, and the event-by-event
  replay it falls back to; then the fork threshold, as the time a split saves or costs at
  sizes around it. Merged into audit.json under ``verify_large`` (kept by later full runs;
  the verify target is judged on it when present).
- ``proofs``: a tree of ``--proof-leaves`` leaves written straight into ``audit_leaves`` /
  ``merkle_nodes`` / ``audit_tree`` (leaves are the v1 leaf hashes of synthetic events, so
  proofs of the sampled events verify end to end; only the sampled events are stored in
  ``events``: appending 10M events through the service takes hours on a shared machine).
  The tree is built once in ``--proof-home`` and reused. Timed: the proof alone
  (``merkle.inclusion_proof`` over ``SqlNodes``), the same proofs a second time (warm
  pages: the first pass's tail is reading pages from disk) and
  ``registry.audit_inclusion_proof``.

Results: bench/results/audit.json and a section of bench/results/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import built_once, open_registry, pct, save_results
from modelatlas.integrity import fastverify, log, merkle
from modelatlas.integrity.leaf import event_leaf_hash
from modelatlas.integrity.verify import open_checkpoints, replay
from modelatlas.registry import Registry
from modelatlas.registry._tx import append_events
from modelatlas.registry.bulk import bulk_load
from modelatlas.registry.types import AssetCreate

RESULTS = Path(__file__).parent / "results"
TARGETS = {"append_events_per_s": 5_000, "inclusion_proof_ms_p50": 5.0,
           "verify_events_per_s": 300_000}


class Clock:
    """Wall and CPU seconds of a block; CPU counts children waited for in the block (the
    verification's forked workers)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return time.process_time() + t.children_user + t.children_system

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = self._cpu() - self.cpu


class TreeTimer:
    """Times every ``log.extend`` call (the tree's share of a write) while installed."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self._original = log.extend

    def __enter__(self) -> TreeTimer:
        def timed(conn: Any, locked: log.TreeHead | None = None) -> log.TreeHead:
            with Clock() as clock:
                result = self._original(conn, locked)
            self.wall += clock.wall
            self.cpu += clock.cpu
            return result
        log.extend = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *_: object) -> None:
        log.extend = self._original  # type: ignore[assignment]


def _rates(count: int, clock: Clock, tree: TreeTimer | None = None) -> dict[str, float]:
    out: dict[str, float] = {"events": count,
                             "events_per_s_wall": round(count / clock.wall),
                             "events_per_s_cpu": round(count / clock.cpu)}
    if tree is not None:
        out["tree_us_per_event_wall"] = round(tree.wall / count * 1e6, 1)
        out["tree_us_per_event_cpu"] = round(tree.cpu / count * 1e6, 1)
        out["tree_share_of_cpu"] = round(tree.cpu / clock.cpu, 3)
    return out


def _event_rows(start: int, count: int) -> list[dict[str, Any]]:
    """Rows as ``WriteTx._event_row`` makes them (canonical payload and its digest)."""
    rows = []
    for i in range(start, start + count):
        payload = json.dumps({"ref": f"dataset:bench/e{i}@1", "state": "active"},
                             separators=(",", ":"), sort_keys=True)
        rows.append({"time": "2026-11-26T09:30:00.123456Z", "actor": "bench",
                     "action": "asset.created", "ref": f"dataset:bench/e{i}@1",
                     "asset_id": None, "payload": payload,
                     "payload_sha256": hashlib.sha256(payload.encode()).hexdigest()})
    return rows


def run_append(registry: Registry, events: int, singles: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, per_tx, count in (("batch_1000", 1000, events), ("one_per_tx", 1, singles)):
        batches = [_event_rows(len(out) * 10**7 + i, per_tx) for i in range(0, count, per_tx)]
        with TreeTimer() as tree, Clock() as clock:
            for rows in batches:
                with registry.db.write() as conn:
                    append_events(conn, rows)
        out[label] = _rates(count, clock, tree)
    return out


def run_service(registry: Registry, events: int, singles: int) -> dict[str, Any]:
    records = (AssetCreate(ref=f"dataset:bench/d{i}@1") for i in range(events))
    with TreeTimer() as tree, Clock() as clock:
        bulk_load(registry, records, batch_size=1000)
    out = {"bulk_load": _rates(events, clock, tree)}
    with TreeTimer() as tree, Clock() as clock:
        for i in range(singles):
            registry.create_asset(AssetCreate(ref=f"dataset:bench/single{i}@1"))
    out["create_asset"] = _rates(singles, clock, tree)
    return out


def run_verify(registry: Registry) -> dict[str, Any]:
    registry.audit_checkpoint()
    with Clock() as clock:
        result = registry.audit_verify()
    return _rates(result.events, clock)


def _append_log(registry: Registry, events: int, head_every: int = 100_000) -> None:
    for start in range(0, events, 1000):
        with registry.db.write() as conn:
            append_events(conn, _event_rows(start, min(1000, events - start)))
        if (start + 1000) % head_every == 0:
            registry.audit_checkpoint()
    registry.audit_checkpoint()


def _verify_paths(registry: Registry, repeats: int) -> dict[str, Any]:
    """Best of ``repeats`` (wall and CPU each) for each way to verify the whole log."""
    verifier = registry._audit_signer(registry.audit_checkpoint().origin).verifier
    with registry.db.read() as conn:
        heads = open_checkpoints((c.signed_note for c in log.checkpoints(conn)), verifier,
                                 None)
        tree = log.head(conn)

        def replayed() -> object:
            with closing(log.event_rows(conn)) as rows, \
                    closing(log.leaf_rows(conn)) as leaves:
                return replay(rows, heads, leaves=leaves)

        paths: dict[str, Callable[[], object]] = {
            "audit_verify": registry.audit_verify,
            "fast_one_process": lambda: fastverify.verify_stored(conn, heads, tree, workers=1),
            "fast_two_processes": lambda: fastverify.verify_stored(conn, heads, tree,
                                                                   workers=2),
            "replay": replayed,
        }
        out: dict[str, Any] = {}
        for name, call in paths.items():
            best_wall = best_cpu = float("inf")
            for _ in range(repeats):
                with Clock() as clock:
                    assert call() is not None
                best_wall, best_cpu = min(best_wall, clock.wall), min(best_cpu, clock.cpu)
            out[name] = {"events": tree.size,
                         "events_per_s_wall": round(tree.size / best_wall),
                         "events_per_s_cpu": round(tree.size / best_cpu),
                         "us_per_event_cpu": round(best_cpu / tree.size * 1e6, 2)}
    return out


@contextmanager
def _log_home(work_dir: Path | None, events: int) -> Iterator[Registry]:
    """A registry holding a log of ``events`` events: built in a temporary directory, or
    with ``work_dir`` built once in ``work_dir/verify-<events>`` and reused by later runs
    (appending a million events takes minutes; verifying never writes)."""
    if work_dir is None:
        with tempfile.TemporaryDirectory() as temp:
            registry = open_registry(Path(temp))
            try:
                _append_log(registry, events)
                yield registry
            finally:
                registry.close()
        return

    def load(registry: Registry) -> dict[str, Any]:
        _append_log(registry, events)
        return {"events": events}

    home, _ = built_once(work_dir / f"verify-{events}", load, rebuild=False)
    registry = open_registry(home)
    try:
        yield registry
    finally:
        registry.close()


def run_verify_only(events: int, repeats: int = 3,
                    work_dir: Path | None = None) -> dict[str, Any]:
    """The verification paths over a log of ``events``, and the fork threshold: the wall
    time one split into two processes saves (negative: costs) at sizes around it."""
    out: dict[str, Any] = {}
    with _log_home(work_dir, events) as registry:
        out["paths"] = _verify_paths(registry, repeats)
    split: dict[str, Any] = {}
    for size in (10_000, 30_000, 100_000):
        with _log_home(work_dir, size) as registry:
            paths = _verify_paths(registry, repeats)
        one, two = paths["fast_one_process"], paths["fast_two_processes"]
        split[str(size)] = {
            "one_process_ms_wall": round(size / one["events_per_s_wall"] * 1000, 1),
            "two_processes_ms_wall": round(size / two["events_per_s_wall"] * 1000, 1)}
    out["split_threshold"] = {"parallel_from": fastverify.PARALLEL_FROM, "sizes": split}
    best = out["paths"]["audit_verify"]
    return {**best, **out}


# --- a large tree, written straight into the tables ---------------------------------------

def _synthetic(i: int) -> tuple[int, str, str, str, str, str, str]:
    """Event ``i`` of the proof tree: (seq, time, actor, action, ref, payload, digest)."""
    payload = f'{{"n":{i}}}'
    return (i + 1, "2026-11-26T09:30:00.000000Z", "bench", "asset.created",
            f"dataset:bench/p{i}@1", payload, hashlib.sha256(payload.encode()).hexdigest())


def _tree_rows(leaves: int, tree: merkle.CompactRange,
               nodes: list[tuple[int, int, bytes]]) -> Iterator[tuple[int, int, bytes]]:
    for i in range(leaves):
        seq, at, actor, action, ref, _, digest = _synthetic(i)
        leaf = event_leaf_hash(seq, at, actor, action, ref, digest)
        nodes.extend(tree.append(leaf))
        yield i, seq, leaf


def build_tree(home: Path, leaves: int) -> dict[str, Any]:
    """Create (or reuse) a registry in ``home`` whose tree has ``leaves`` leaves."""
    marker = home / "tree.json"
    if marker.exists() and json.loads(marker.read_text())["leaves"] == leaves:
        return {**json.loads(marker.read_text()), "reused": True}
    home.mkdir(parents=True, exist_ok=True)
    (home / "registry.db").unlink(missing_ok=True)
    open_registry(home).close()  # the schema, by the migrations
    db = sqlite3.connect(home / "registry.db", isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")  # a throwaway benchmark file: no fsync per chunk
    tree, nodes = merkle.CompactRange(), list[tuple[int, int, bytes]]()
    with Clock() as clock:
        rows = _tree_rows(leaves, tree, nodes)
        while True:
            db.execute("BEGIN")
            chunk = [row for _, row in zip(range(500_000), rows, strict=False)]
            db.executemany("INSERT INTO audit_leaves VALUES (?, ?, ?)", chunk)
            db.executemany("INSERT INTO merkle_nodes VALUES (?, ?, ?)", nodes)
            db.execute("COMMIT")
            nodes.clear()
            if len(chunk) < 500_000:
                break
        db.execute("UPDATE audit_tree SET size = ?, last_seq = ?, root = ? WHERE id = 1",
                   (leaves, leaves, tree.root()))
        db.execute("ANALYZE")
    db.close()
    built = {"leaves": leaves, "root": tree.root().hex(), "build_s_wall": round(clock.wall),
             "build_s_cpu": round(clock.cpu),
             "db_bytes": (home / "registry.db").stat().st_size}
    marker.write_text(json.dumps(built, indent=2))
    return {**built, "reused": False}


def _timed(samples: list[int], call: Callable[[int], object]) -> dict[str, float]:
    walls, cpu = [], time.process_time()
    for index in samples:
        started = time.perf_counter()
        call(index)
        walls.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu) * 1000 / len(samples)
    return {"p50_ms": round(pct(walls, 50), 3), "p95_ms": round(pct(walls, 95), 3),
            "p99_ms": round(pct(walls, 99), 3), "cpu_ms_mean": round(cpu, 3)}


def _node_plan(registry: Registry, index: int, size: int) -> list[str]:
    """SQLite's plan for the statement one proof runs (each arm a primary-key search)."""
    wanted: set[merkle.NodeKey] = set()
    merkle.inclusion_proof(index, size, _Recorder(wanted))
    keys = sorted(wanted)
    values: dict[str, int] = {}
    for n, (level, idx) in enumerate(keys):
        values[f"i{n}"] = idx
        if level:
            values[f"l{n}"] = level
    query = log._node_query(tuple(level == 0 for level, _ in keys))
    with registry.db.read() as conn:
        compiled = query._for(conn, tuple(values))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        plan = cursor.execute("EXPLAIN QUERY PLAN " + compiled.sql,
                              compiled.params(values)).fetchall()
    return sorted({row[-1] for row in plan if "SEARCH" in row[-1] or "SCAN" in row[-1]})


class _Recorder:
    """A NodeReader that records the keys a proof asks for and answers zeros."""

    def __init__(self, wanted: set[merkle.NodeKey]) -> None:
        self.wanted = wanted

    def nodes(self, keys: Any) -> dict[merkle.NodeKey, bytes]:
        self.wanted.update(keys)
        return {k: bytes(32) for k in keys}


def run_proofs(home: Path, leaves: int, samples: int = 300) -> dict[str, Any]:
    out: dict[str, Any] = {"tree": build_tree(home, leaves)}
    picks = sorted({(k * 7_919_993 + 12_345) % leaves for k in range(samples)})
    registry = open_registry(home)
    try:
        with registry.db.write() as conn:  # the sampled events, so the service can prove them
            conn.exec_driver_sql("DELETE FROM audit_checkpoints")
            conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
                "INSERT OR IGNORE INTO events (seq, time, actor, action, ref, payload, "
                "payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)", [_synthetic(i) for i in picks])
        root = bytes.fromhex(out["tree"]["root"])
        with registry.db.read() as conn:
            reader = log.SqlNodes(conn)
            for index in picks[:20]:  # every proof checked once, then timed
                leaf = reader.nodes([(0, index)])[(0, index)]
                merkle.verify_inclusion(index=index, size=leaves, leaf=leaf, root=root,
                                        proof=merkle.inclusion_proof(index, leaves, reader))
            out["inclusion_proof"] = _timed(
                picks, lambda i: merkle.inclusion_proof(i, leaves, reader))
            # the same proofs again: their pages are now in SQLite's and the OS's caches,
            # so the difference from the first pass is the cost of reading cold pages
            out["inclusion_proof_warm"] = _timed(
                picks, lambda i: merkle.inclusion_proof(i, leaves, reader))
        out["audit_inclusion_proof"] = _timed(
            picks, lambda i: registry.audit_inclusion_proof(i + 1, tree_size=leaves))
        registry.audit_inclusion_proof(picks[0] + 1, tree_size=leaves).verify()
        out["plan"] = _node_plan(registry, picks[len(picks) // 2], leaves)
    finally:
        registry.close()
    return out


# --- report -----------------------------------------------------------------------------

def verdicts(result: dict[str, Any]) -> dict[str, str]:
    append = result["append"]["batch_1000"]["events_per_s_wall"]
    proofs = result["proofs"]
    proof = proofs["inclusion_proof"]
    warm = proofs.get("inclusion_proof_warm", proof)
    verified = result.get("verify_large", result["verify"])
    verify = verified["events_per_s_wall"]
    leaves = proofs["tree"]["leaves"]
    return {
        "append >= 5,000 events/s": f"{append:,}/s ({'met' if append >= 5000 else 'missed'})",
        f"inclusion proof <= 5 ms at {leaves:,} leaves (10M asked)":
            f"p50 {proof['p50_ms']} ms, p95 {proof['p95_ms']} ms cold pages / "
            f"{warm['p95_ms']} ms warm ({'met' if warm['p95_ms'] <= 5 else 'missed'} warm, "
            f"{'met' if proof['p95_ms'] <= 5 else 'missed'} cold)",
        "verify >= 300,000 events/s":
            f"{verify:,}/s wall, {verified['events_per_s_cpu']:,}/s CPU over "
            f"{verified['events']:,} events ({'met' if verify >= 300_000 else 'missed'})",
    }


def _rate_row(label: str, figures: dict[str, Any]) -> str:
    tree = (f"{figures['tree_us_per_event_wall']} / {figures['tree_us_per_event_cpu']}"
            if "tree_us_per_event_wall" in figures else "-")
    return (f"| {label} | {figures['events']:,} | {figures['events_per_s_wall']:,} | "
            f"{figures['events_per_s_cpu']:,} | {tree} |")


def readme_section(result: dict[str, Any]) -> str:
    proofs = result["proofs"]
    lines = [f"### Audit log, SQLite ({result['date']})", "",
             f"`{result['command']}`; load average {result['load_average']} "
             f"({result['machine']['cpus']} CPUs); wall and this process's CPU time.", "",
             "| path | events | events/s wall | events/s CPU | tree us/event wall / CPU |",
             "| --- | ---: | ---: | ---: | --- |",
             _rate_row("`append_events`, 1,000 per transaction", result["append"]["batch_1000"]),
             _rate_row("`append_events`, 1 per transaction", result["append"]["one_per_tx"]),
             _rate_row("`bulk_load`, 1,000 per transaction", result["service"]["bulk_load"]),
             _rate_row("`create_asset` (1 event, 1 fsync)", result["service"]["create_asset"]),
             _rate_row("`audit_verify`", result["verify"]),
             *[_rate_row(f"verify ({name}, best of 3; CPU with workers)", figures)
               for name, figures in result.get("verify_large", {}).get("paths", {}).items()],
             "", f"Inclusion proofs, {proofs['tree']['leaves']:,} leaves "
             f"({len(proofs['plan'])} plan lines: {'; '.join(proofs['plan'])}):", "",
             "| call | p50 ms | p95 ms | p99 ms | CPU ms (mean) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name in ("inclusion_proof", "inclusion_proof_warm", "audit_inclusion_proof"):
        f = proofs[name]
        lines.append(f"| `{name}` | {f['p50_ms']} | {f['p95_ms']} | {f['p99_ms']} | "
                     f"{f['cpu_ms_mean']} |")
    lines += ["", "Targets: " + "; ".join(f"{k}: {v}" for k, v in result["targets"].items()),
              ""]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--proof-leaves", type=int, default=1_000_000)
    parser.add_argument("--proof-home", type=Path,
                        default=Path(tempfile.gettempdir()) / "modelatlas-audit-bench")
    parser.add_argument("--no-readme", action="store_true", help="do not touch README.md")
    parser.add_argument("--verify-only", action="store_true",
                        help="only the verification paths, over a log of --events events")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="with --verify-only: build each log once here and reuse it")
    parser.add_argument("--results-dir", type=Path, default=RESULTS,
                        help="where audit.json (and README.md) are written")
    return parser.parse_args(argv)


def main_verify_only(args: argparse.Namespace, command: str) -> int:
    """Run the verification paths and merge them into audit.json under ``verify``."""
    load = [round(x, 2) for x in os.getloadavg()]
    figures = run_verify_only(args.events, work_dir=args.work_dir)
    figures.update({"command": command, "date": datetime.now(UTC).date().isoformat(),
                    "load_average": load,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]})
    print(json.dumps(figures, indent=2))
    path = args.results_dir / "audit.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result["verify_large"] = figures
    if "proofs" in result and "append" in result:
        result["targets"] = verdicts(result)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = " ".join(["bench/audit_bench.py", *(argv or sys.argv[1:])])
    if args.verify_only:
        return main_verify_only(args, command)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "command": command,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "processor": platform.machine(), "cpus": os.cpu_count()},
    }
    with tempfile.TemporaryDirectory() as home:
        registry = open_registry(Path(home))
        try:
            result["append"] = run_append(registry, args.events, args.singles)
            result["service"] = run_service(registry, args.events, args.singles)
            result["verify"] = run_verify(registry)
        finally:
            registry.close()
    result["proofs"] = run_proofs(args.proof_home, args.proof_leaves)
    previous = args.results_dir / "audit.json"
    if previous.exists() and "verify_large" in json.loads(previous.read_text()):
        result["verify_large"] = json.loads(previous.read_text())["verify_large"]
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = verdicts(result)
    print(json.dumps(result, indent=2))
    save_results(args.results_dir, "audit.json", result, readme_section(result),
                 readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
