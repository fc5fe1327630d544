"""A batch larger than one multi-row insert (500 rows): its assets, edges, the rows their
triggers keep (run_inputs) and its audit events are all written, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from modelatlas.lineage.openlineage import dataset_ref, job_ref, run_ref
from modelatlas.registry import Registry

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.12.0/integration/spark"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
RUNS = 130  # 5 edges a run: 650 relation rows and their events, two inserts each


def _run_events(index: int) -> list[dict[str, Any]]:
    run_id = str(uuid.UUID(int=index + 1, version=4))
    inputs = [{"namespace": "s3://lake", "name": f"/t/{(index + k) % 10}"} for k in (0, 1)]
    output = {"namespace": "s3://lake", "name": f"/t/{(index + 2) % 10}"}
    parent = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/"
              "1-0-0/ParentRunFacet.json#/$defs/ParentRunFacet",
              "run": {"runId": str(uuid.UUID(int=10_000 + index // 20, version=4))},
              "job": {"namespace": "airflow", "name": "dag"}}
    return [{"eventType": kind, "eventTime": f"2026-01-01T00:{index // 60:02}:{index % 60:02}Z",
             "run": {"runId": run_id, "facets": {"parent": parent}},
             "job": {"namespace": "airflow", "name": f"task_{index % 7}"},
             "inputs": inputs, "outputs": [output], "producer": PRODUCER, "schemaURL": CORE}
            for kind in ("START", "COMPLETE")]


def test_a_batch_past_one_insert_writes_every_row_and_event(registry: Registry) -> None:
    batch = [e for index in range(RUNS) for e in _run_events(index)]
    before = registry.audit_verify().events
    result = registry.ingest_openlineage(batch)
    parents = (RUNS + 19) // 20
    assert len(result.created) == RUNS + parents + 7 + 1 + 10  # runs, parents, jobs, datasets
    assert result.relations == RUNS * 5 + parents
    run = str(run_ref("airflow", str(uuid.UUID(int=RUNS, version=4))))  # the last run
    out = {(r.relation, r.target) for r in registry.relations(run, direction="out").items}
    assert out == {
        ("associated_with", str(job_ref("airflow", f"task_{(RUNS - 1) % 7}"))),
        ("part_of", str(run_ref("airflow", str(uuid.UUID(int=10_000 + (RUNS - 1) // 20,
                                                          version=4))))),
        ("used", str(dataset_ref("s3://lake", f"/t/{(RUNS - 1) % 10}"))),
        ("used", str(dataset_ref("s3://lake", f"/t/{RUNS % 10}"))),
        ("produced", str(dataset_ref("s3://lake", f"/t/{(RUNS + 1) % 10}"))),
    }
    with registry.db.read() as conn:  # kept by the relations' trigger, row by row
        assert conn.execute(sa.text("SELECT COUNT(*) FROM run_inputs")).scalar() == RUNS * 2
    # one event per asset and edge written, every one a leaf of the verified tree
    assert registry.audit_verify().events - before == len(result.created) + result.relations
    again = registry.ingest_openlineage(batch)
    assert (again.created, again.updated, again.relations) == ([], [], 0)
