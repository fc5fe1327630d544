"""Audit log benchmark: appending events with tree maintenance, inclusion proof latency on a
large tree, and full verification speed, on SQLite.

    python bench/audit_bench.py [--events 20000] [--proof-leaves 1000000]

The proof tree is written straight into ``audit_leaves`` / ``merkle_nodes`` (synthetic leaf
hashes, no events): appending 10M events through the service layer takes too long for a
shared machine. Proof cost is two indexed queries for O(log n) keys, so it grows with the
B-tree depth only. Results go to bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

from modelatlas.config import Settings
from modelatlas.integrity import log, merkle
from modelatlas.registry import Registry
from modelatlas.registry.bulk import bulk_load
from modelatlas.registry.types import AssetCreate
from modelatlas.store.tables import audit_leaves, merkle_nodes

RESULTS = Path(__file__).parent / "results" / "audit.json"


def _append(registry: Registry, count: int) -> dict[str, float]:
    started = time.perf_counter()
    bulk_load(registry, (AssetCreate(ref=f"dataset:bench/d{i}@1") for i in range(count)),
              batch_size=1000)
    bulk = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(300):
        registry.create_asset(AssetCreate(ref=f"dataset:bench/single{i}@1"))
    single = 300 / (time.perf_counter() - started)
    return {"bulk_events_per_s": round(bulk), "single_write_events_per_s": round(single)}


def _verify(registry: Registry) -> dict[str, float]:
    registry.audit_checkpoint()
    result = registry.audit_verify()
    return {"verify_events": result.events,
            "verify_events_per_s": round(result.events / result.seconds)}


def _proofs(registry: Registry, leaves: int) -> dict[str, float]:
    tree = merkle.CompactRange()
    with registry.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM audit_leaves")
        conn.exec_driver_sql("DELETE FROM merkle_nodes")
        rows, nodes = [], []
        for i in range(leaves):
            leaf = hashlib.sha256(i.to_bytes(8, "big")).digest()
            rows.append({"leaf_index": i, "seq": i + 1, "hash": leaf})
            nodes += [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in tree.append(leaf)]
            if len(rows) >= 50_000:
                conn.execute(audit_leaves.insert(), rows)
                conn.execute(merkle_nodes.insert(), nodes)
                rows, nodes = [], []
        if rows:
            conn.execute(audit_leaves.insert(), rows)
        if nodes:
            conn.execute(merkle_nodes.insert(), nodes)
    root = tree.root()
    timings = []
    with registry.db.read() as conn:
        reader = log.SqlNodes(conn)
        for k in range(200):
            index = (k * 7_919_993) % leaves
            started = time.perf_counter()
            proof = merkle.inclusion_proof(index, leaves, reader)
            timings.append(time.perf_counter() - started)
            leaf = merkle.leaf_hash(b"")  # placeholder, replaced by the stored leaf below
            leaf = reader.nodes([(0, index)])[(0, index)]
            merkle.verify_inclusion(index=index, size=leaves, leaf=leaf, proof=proof, root=root)
    return {"proof_tree_leaves": leaves,
            "inclusion_proof_ms_median": round(statistics.median(timings) * 1000, 3),
            "inclusion_proof_ms_p99": round(sorted(timings)[int(len(timings) * 0.99)] * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--proof-leaves", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        registry = Registry.open(Settings(home=Path(home), actor="bench"))
        try:
            results = {**_append(registry, args.events), **_verify(registry),
                       **_proofs(registry, args.proof_leaves)}
        finally:
            registry.close()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
