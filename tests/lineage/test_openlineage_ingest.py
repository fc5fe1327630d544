"""OpenLineage events through the service layer onto the graph, on both backends."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.lineage.openlineage import OpenLineageInvalid, dataset_ref, job_ref, run_ref
from modelatlas.registry import Registry

EVENTS = Path(__file__).parent / "openlineage_events"
TASK_RUN = "0190b3c8-5d9e-7f3a-9c1e-2f4b6a8d0e12"
DAG_RUN = "0190b3c8-4a11-7b2c-8d3e-1a2b3c4d5e6f"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def task(event_type: str, time: str = "2024-05-01T10:15:42.123Z") -> dict[str, Any]:
    e = event("spark_complete")
    e["eventType"], e["eventTime"] = event_type, time
    if event_type != "COMPLETE":
        del e["outputs"][0]["facets"]["columnLineage"]
    return e


def edges(registry: Registry, ref: str) -> set[tuple[str, str, str]]:
    return {(r.source, r.relation, r.target)
            for r in registry.relations(ref, direction="out").items}


def run_of(registry: Registry, run_id: str = TASK_RUN) -> Any:
    return registry.get_asset(run_ref("airflow-prod", run_id))


def test_a_run_event_maps_jobs_runs_datasets_schemas_and_edges(registry: Registry) -> None:
    registry.ingest_openlineage(task("COMPLETE"))
    run = run_of(registry)
    job = job_ref("airflow-prod", "daily_orders.aggregate_orders")
    orders = dataset_ref("postgres://db.acme.internal:5432", "shop.public.orders")
    customers = dataset_ref("s3://acme-raw", "/events/customers")
    out = dataset_ref("s3://acme-warehouse", "/marts/orders_by_country")
    parent = run_ref("airflow-prod", DAG_RUN)
    assert edges(registry, run.ref) == {
        (run.ref, "associated_with", str(job)), (run.ref, "part_of", str(parent)),
        (run.ref, "used", str(orders)), (run.ref, "used", str(customers)),
        (run.ref, "produced", str(out)),
    }
    assert run.metadata["status"] == "completed"
    assert run.metadata["ended_at"] == "2024-05-01T10:15:42.123000Z"
    assert run.custom["openlineage"]["facets"]["processing_engine"]["name"] == "spark"
    code = registry.get_asset(job)
    assert code.metadata["repository"] == "https://github.com/acme/pipelines"
    assert code.metadata["commit"] == "4f2a9c1"
    assert code.custom["openlineage"] == {
        "namespace": "airflow-prod", "name": "daily_orders.aggregate_orders",
        "facets": event("spark_complete")["job"]["facets"]}
    dataset = registry.get_asset(orders)
    assert dataset.custom["openlineage"]["namespace"] == "postgres://db.acme.internal:5432"
    assert dataset.metadata["location"] == "postgres://db.acme.internal:5432/shop.public.orders"
    (schema,) = [t for _, rel, t in edges(registry, str(orders)) if rel == "conforms_to"]
    assert dataset.custom["openlineage"]["schema"] == schema
    fields = registry.get_asset(schema).metadata["fields"]
    assert [f["name"] for f in fields] == ["order_id", "customer_id", "amount", "created_at"]
    assert fields[2]["description"] == "order total in EUR"


def test_column_lineage_is_kept_on_the_output_with_input_refs(registry: Registry) -> None:
    registry.ingest_openlineage(task("COMPLETE"))
    out = registry.get_asset(dataset_ref("s3://acme-warehouse", "/marts/orders_by_country"))
    lineage = out.custom["openlineage"]["columnLineage"]
    (source,) = lineage["fields"]["total"]["inputFields"]
    assert source["field"] == "amount"
    assert source["ref"] == str(dataset_ref("postgres://db.acme.internal:5432",
                                            "shop.public.orders"))
    assert source["transformations"][0]["subtype"] == "AGGREGATION"
    assert lineage["runId"] == TASK_RUN


@pytest.mark.parametrize(("types", "status"), [
    (["START"], "running"), (["START", "RUNNING"], "running"),
    (["START", "COMPLETE"], "completed"), (["START", "FAIL"], "failed"),
    (["START", "ABORT"], "aborted"), (["START", "COMPLETE", "OTHER"], "completed"),
    (["OTHER"], "running"),
])
def test_event_types_set_the_run_status(
    registry: Registry, types: list[str], status: str
) -> None:
    for minute, kind in enumerate(types):
        registry.ingest_openlineage(task(kind, f"2024-05-01T10:{10 + minute}:00Z"))
    run = run_of(registry)
    assert run.metadata["status"] == status
    # the last event that set a status; OTHER sets none
    deciding = [kind for kind in types if kind != "OTHER"]
    assert run.custom["openlineage"].get("eventType") == (deciding[-1] if deciding else None)
    if "START" in types:
        assert run.metadata["started_at"] == "2024-05-01T10:10:00Z"


def test_start_then_complete_update_one_run_and_a_late_start_does_not_reopen_it(
    registry: Registry,
) -> None:
    first = registry.ingest_openlineage(task("START", "2024-05-01T10:10:00Z"))
    assert str(run_of(registry).ref) in first.created
    second = registry.ingest_openlineage(task("COMPLETE", "2024-05-01T10:15:00Z"))
    assert second.created == []
    assert run_of(registry).ref in second.updated
    registry.ingest_openlineage(task("START", "2024-05-01T10:10:00Z"))
    run = run_of(registry)
    assert run.metadata["status"] == "completed"
    assert run.revision == 2


def test_complete_before_start_keeps_the_run_completed(registry: Registry) -> None:
    registry.ingest_openlineage([task("COMPLETE", "2024-05-01T10:15:00Z"),
                                 task("START", "2024-05-01T10:10:00+00:00")])
    run = run_of(registry)
    assert run.metadata["status"] == "completed"
    assert run.metadata["started_at"] == "2024-05-01T10:10:00Z"
    assert run.metadata["ended_at"] == "2024-05-01T10:15:00Z"


def test_redelivery_writes_nothing(registry: Registry) -> None:
    batch = [event("airflow_dag_start"), task("START", "2024-05-01T10:10:00Z"),
             task("COMPLETE"), event("dbt_dataset_event")]
    registry.ingest_openlineage(batch)
    seq = registry.events(limit=500).items[-1].seq
    again = registry.ingest_openlineage(copy.deepcopy(batch))
    assert (again.created, again.updated, again.relations) == ([], [], 0)
    assert registry.events(after=seq).items == []
    for one in batch:
        registry.ingest_openlineage(one)
    assert registry.events(after=seq).items == []


def test_parent_run_is_created_then_completed_by_its_own_events(registry: Registry) -> None:
    registry.ingest_openlineage(task("COMPLETE"))
    parent = run_of(registry, DAG_RUN)
    assert parent.metadata["status"] == "running"
    assert edges(registry, parent.ref) == {
        (parent.ref, "associated_with", str(job_ref("airflow-prod", "daily_orders")))}
    dag_complete = event("airflow_dag_start")
    dag_complete["eventType"], dag_complete["eventTime"] = "COMPLETE", "2024-05-01T11:00:00Z"
    registry.ingest_openlineage([event("airflow_dag_start"), dag_complete])
    parent = run_of(registry, DAG_RUN)
    assert parent.metadata["status"] == "completed"
    assert parent.metadata["started_at"] == "2024-05-01T10:00:00Z"
    assert parent.custom["openlineage"]["facets"]["nominalTime"]["nominalStartTime"]


def test_a_dataset_event_maps_the_dataset_and_its_nested_schema(registry: Registry) -> None:
    result = registry.ingest_openlineage(event("dbt_dataset_event"))
    ref = dataset_ref("snowflake://acme.eu-west-1", "ANALYTICS.MARTS.CUSTOMERS")
    assert str(ref) in result.created
    schema = registry.get_asset(registry.get_asset(ref).custom["openlineage"]["schema"])
    assert [f["name"] for f in schema.metadata["fields"]] == ["ID", "ADDRESS", "ADDRESS.CITY"]


def test_a_changed_schema_is_a_new_schema_version(registry: Registry) -> None:
    registry.ingest_openlineage(event("dbt_dataset_event"))
    ref = str(dataset_ref("snowflake://acme.eu-west-1", "ANALYTICS.MARTS.CUSTOMERS"))
    before = registry.get_asset(ref)
    changed = event("dbt_dataset_event")
    changed["dataset"]["facets"]["schema"]["fields"].append({"name": "EMAIL", "type": "VARCHAR"})
    registry.ingest_openlineage(changed)
    schemas = sorted(t for _, rel, t in edges(registry, ref) if rel == "conforms_to")
    assert len(schemas) == 2
    # only custom changed: the update that leaves metadata out of its SET keeps the rest
    after = registry.get_asset(ref)
    assert after.custom["openlineage"]["schema"] == next(
        s for s in schemas if s != before.custom["openlineage"]["schema"])
    assert (after.metadata, after.digests, after.revision) == (
        before.metadata, before.digests, before.revision + 1)


def test_a_batch_is_all_or_nothing_and_errors_name_the_event(registry: Registry) -> None:
    bad = task("COMPLETE")
    del bad["run"]["runId"]
    with pytest.raises(OpenLineageInvalid) as exc:
        registry.ingest_openlineage([event("airflow_dag_start"), bad])
    assert [e.path for e in exc.value.errors] == ["/1/run"]
    assert registry.list_assets(kind="run").items == []


def test_non_json_values_are_refused_in_process(registry: Registry) -> None:
    e = task("START")
    e["job"]["name"] = "a\x00b"
    with pytest.raises(InvalidInput.__mro__[1]):  # ModelAtlasError: MalformedBody, 400
        registry.ingest_openlineage(e)
    assert registry.list_assets(kind="code").items == []


def test_a_bare_dataset_namespace_is_no_uri(registry: Registry) -> None:
    """OpenLineage namespaces need not be URLs; a bare one is kept as the dataset's
    OpenLineage identity, not recorded as a location with an unknown URI scheme (which the
    registration allow-list refuses)."""
    e = task("COMPLETE")
    e["outputs"][0]["namespace"] = "analytics-team"
    registry.ingest_openlineage(e)
    out = registry.get_asset(dataset_ref("analytics-team", "/marts/orders_by_country"))
    assert "location" not in out.metadata
    assert out.custom["openlineage"]["namespace"] == "analytics-team"
