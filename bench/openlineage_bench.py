"""The OpenLineage ingest benchmark: events/s through the service layer into a fresh SQLite
registry (target: >= 2,000 events/s sustained).

Generates ``--events`` realistic run events: START and COMPLETE for each run, each run a
task of one of 50 jobs (with a parent DAG run facet, a job type and a source-code facet),
reading 2 of 200 datasets and writing 1, every dataset with a schema facet and each output
with a column-lineage facet. Events are sent through ``Registry.ingest_openlineage`` in
requests of ``--batch`` events (1 is what the OpenLineage HTTP transport sends; 100 what a
batching proxy sends), in event-time order, as a scheduler emits them; and over HTTP to a
real server (`modelatlas serve`), one event per POST (what the transports send) from ``--clients``
concurrent clients, which the server groups into shared commits (``--threads`` measures the
same grouping in-process, without HTTP; ``commits`` counts the write transactions).
Validation against the OpenLineage JSON Schemas is part of the time. Each run reports wall
and CPU figures: on a shared machine, compare the CPU ones.

    .venv/bin/python bench/openlineage_bench.py --events 1000 --batch 1 --batch 100 \
        --batch 1000 --threads 8 --clients 1 --clients 8

Figures go to ``bench/results/openlineage-ingest.json`` (``--results-dir`` elsewhere).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from _common import open_registry
from modelatlas.cli.setup import SERVER_GC_THRESHOLD

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.12.0/integration/spark"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets/"


def _facet(schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACETS + schema, **fields}


def _dataset(index: int) -> dict[str, Any]:
    columns = [{"name": f"col_{c}", "type": random.choice(["bigint", "string", "double"])}
               for c in range(8)]
    return {"namespace": f"s3://lake-{index % 10}", "name": f"/warehouse/table_{index}",
            "facets": {"schema": _facet("1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                                        fields=columns)}}


def _lineage(inputs: list[dict[str, Any]]) -> dict[str, Any]:
    fields = {f"col_{c}": {"inputFields": [
        {"namespace": d["namespace"], "name": d["name"], "field": f"col_{c}",
         "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]} for d in inputs]}
        for c in range(4)}
    return _facet("1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
                  fields=fields)


def events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` events, START and COMPLETE of ``count // 2`` runs, in time order."""
    random.seed(seed)
    datasets = [_dataset(i) for i in range(200)]
    dag_run = str(uuid.UUID(int=random.getrandbits(128), version=4))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for run in range(count // 2):
        if run % 20 == 0:
            dag_run = str(uuid.UUID(int=random.getrandbits(128), version=4))
        job_index = run % 50
        reads = random.sample(range(200), 3)
        inputs = [datasets[i] for i in reads[:2]]
        output = {**datasets[reads[2]]}
        output["facets"] = {**output["facets"], "columnLineage": _lineage(inputs)}
        run_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        job = {"namespace": "airflow-prod", "name": f"etl.task_{job_index}", "facets": {
            "jobType": _facet("2-0-2/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
                              processingType="BATCH", integration="SPARK", jobType="TASK")}}
        parent = _facet("1-0-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                        run={"runId": dag_run}, job={"namespace": "airflow-prod", "name": "etl"})
        for kind, offset in (("START", 0), ("COMPLETE", 30)):
            out.append({
                "eventType": kind, "eventTime": (at + timedelta(seconds=run + offset))
                .isoformat().replace("+00:00", "Z"),
                "run": {"runId": run_id, "facets": {"parent": parent}}, "job": job,
                "inputs": inputs, "outputs": [output],
                "producer": PRODUCER, "schemaURL": CORE,
            })
    out.sort(key=lambda e: e["eventTime"])
    return out


def measure(stream: list[dict[str, Any]], batch: int, home: Path) -> dict[str, Any]:
    """In-process: ``Registry.ingest_openlineage`` in requests of ``batch`` events."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    registry = open_registry(home)
    try:
        cpu, started = time.process_time(), time.perf_counter()
        created = relations = 0
        for start in range(0, len(stream), batch):
            chunk = stream[start:start + batch]
            result = registry.ingest_openlineage(chunk if batch > 1 else chunk[0])
            created += len(result.created)
            relations += result.relations
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        registry.close()
    return {"transport": "in-process", "batch": batch, "events": len(stream),
            **_rates(len(stream), seconds, cpu),
            "assets_created": created, "relations_added": relations}


def measure_grouped(stream: list[dict[str, Any]], threads: int, home: Path) -> dict[str, Any]:
    """In-process, one event per call from ``threads`` threads with ``grouped=True``, as the
    HTTP route calls it: concurrent calls share a transaction (group commit)."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    registry = open_registry(home)
    shares = _shares(stream, threads)

    def send(share: list[dict[str, Any]]) -> None:
        for event in share:
            registry.ingest_openlineage(event, grouped=True)

    try:
        cpu, started = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(send, shares))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        registry.close()
    return {"transport": "in-process grouped", "batch": 1, "threads": threads,
            "events": len(stream), **_rates(len(stream), seconds, cpu),
            "commits": _commits(home)}


def _shares(stream: list[dict[str, Any]], clients: int) -> list[list[dict[str, Any]]]:
    """A run's events go to one client, in order, as one scheduler's emitter sends them."""
    client_of = [int(e["run"]["runId"][:8], 16) % clients for e in stream]
    return [[e for e, c in zip(stream, client_of, strict=True) if c == n]
            for n in range(clients)]


def _commits(home: Path) -> int:
    """Write transactions that appended the events: one timestamp per transaction."""
    with sqlite3.connect(home / "registry.db") as db:
        return int(db.execute("SELECT COUNT(DISTINCT time) FROM events").fetchone()[0])


def _rates(count: int, seconds: float, cpu: float) -> dict[str, Any]:
    """Wall and CPU figures: on a shared machine the CPU time is the one that compares."""
    return {"seconds": round(seconds, 3), "events_per_second": round(count / seconds, 1),
            "cpu_seconds": round(cpu, 3), "events_per_cpu_second": round(count / cpu, 1)}


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MODELATLAS_HOME": str(home), "MODELATLAS_ACTOR": "bench",
           "MODELATLAS_DATABASE_URL": f"sqlite:///{home / 'registry.db'}"}
    # `modelatlas serve`, not bare uvicorn: what an operator runs, with its heap settled
    # and its collector thresholds (cli/setup.py), which the in-process runs mirror
    server = subprocess.Popen(
        [sys.executable, "-m", "modelatlas.cli", "serve", "--port", str(port),
         "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/api/v1/events?limit=1", timeout=1).raise_for_status()
            return server, url
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def measure_http(stream: list[dict[str, Any]], clients: int, home: Path) -> dict[str, Any]:
    """Over HTTP, as the OpenLineage HTTP transports send: one event per POST to
    /api/v1/lineage, from ``clients`` concurrent clients (each its own connection). The
    CPU figure is the server's (uvicorn, the service layer, SQLite)."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    server, url = _serve(home)
    shares = [[json.dumps(e).encode() for e in share] for share in _shares(stream, clients)]

    def send(share: list[bytes]) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for body in share:
                client.post("/api/v1/lineage", content=body,
                            headers={"Content-Type": "application/json"}).raise_for_status()

    try:
        cpu, started = _cpu_of(server.pid), time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, shares))
        seconds, cpu = time.perf_counter() - started, _cpu_of(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(30)
    return {"transport": "http", "batch": 1, "clients": clients, "events": len(stream),
            **_rates(len(stream), seconds, cpu), "commits": _commits(home)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, action="append", help="events per request")
    parser.add_argument("--clients", type=int, action="append",
                        help="concurrent HTTP clients sending one event per POST")
    parser.add_argument("--threads", type=int, action="append",
                        help="in-process threads sending one event per grouped call")
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / ".work" / "ol")
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results",
                        help="where openlineage-ingest.json goes")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="leave start-up objects and the input events to the cyclic collector "
                        "(the default freezes them and raises the collection thresholds, as "
                        "`modelatlas serve` does)")
    args = parser.parse_args()
    stream = events(args.events)
    if not args.no_gc_freeze:
        # as `modelatlas serve` does after start-up (cli/setup.py); the input too: the
        # benchmark holds every event for the whole run, where a server holds one
        # request's, and the cyclic collector would scan them all again and again
        gc.collect()
        gc.freeze()
        gc.set_threshold(*SERVER_GC_THRESHOLD)  # and its thresholds
    runs = [measure(stream, batch, args.work / f"b{batch}") for batch in args.batch or [100]]
    runs += [measure_grouped(stream, n, args.work / f"g{n}") for n in args.threads or []]
    runs += [measure_http(stream, n, args.work / f"http{n}") for n in args.clients or []]
    figures = {
        "benchmark": "openlineage-ingest",
        "target": ">= 2000 events/s sustained into SQLite through the service layer",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0], "gc_frozen": not args.no_gc_freeze,
        "gc_threshold": gc.get_threshold(),
        "runs": runs,
    }
    for run in runs:
        how = (f"http, {run['clients']} clients" if run["transport"] == "http"
               else f"grouped, {run['threads']} threads" if "threads" in run
               else f"in-process, batch {run['batch']}")
        commits = f" ({run['commits']} commits)" if "commits" in run else ""
        print(f"{how:>24}: {run['events']} events in {run['seconds']} s = "
              f"{run['events_per_second']} events/s wall, "
              f"{run['events_per_cpu_second']} events per CPU second{commits}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / "openlineage-ingest.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
