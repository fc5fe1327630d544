"""The OpenLineage ingest benchmark: events/s through the service layer into a fresh SQLite
registry (target: >= 2,000 events/s sustained).

Generates ``--events`` realistic run events: START and COMPLETE for each run, each run a
task of one of 50 jobs (with a parent DAG run facet, a job type and a source-code facet),
reading 2 of 200 datasets and writing 1, every dataset with a schema facet and each output
with a column-lineage facet. Events are sent through ``Registry.ingest_openlineage`` in
requests of ``--batch`` events (1 is what the OpenLineage HTTP transport sends; 100 what a
batching proxy sends), in event-time order, as a scheduler emits them. Validation against
the OpenLineage JSON Schemas is part of the time.

    .venv/bin/python bench/openlineage_bench.py --events 5000 --batch 1 --batch 100

Figures go to ``bench/results/openlineage-ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import open_registry

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
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    registry = open_registry(home)
    try:
        started = time.perf_counter()
        created = relations = 0
        for start in range(0, len(stream), batch):
            chunk = stream[start:start + batch]
            result = registry.ingest_openlineage(chunk if batch > 1 else chunk[0])
            created += len(result.created)
            relations += result.relations
        seconds = time.perf_counter() - started
    finally:
        registry.close()
    return {"batch": batch, "events": len(stream), "seconds": round(seconds, 3),
            "events_per_second": round(len(stream) / seconds, 1),
            "assets_created": created, "relations_added": relations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, action="append", help="events per request")
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / ".work" / "ol")
    args = parser.parse_args()
    stream = events(args.events)
    runs = [measure(stream, batch, args.work / f"b{batch}") for batch in args.batch or [100]]
    figures = {
        "benchmark": "openlineage-ingest",
        "target": ">= 2000 events/s sustained into SQLite through the service layer",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(), "runs": runs,
    }
    for run in runs:
        print(f"batch {run['batch']:>5}: {run['events']} events in {run['seconds']} s = "
              f"{run['events_per_second']} events/s")
    out = Path(__file__).parent / "results" / "openlineage-ingest.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
