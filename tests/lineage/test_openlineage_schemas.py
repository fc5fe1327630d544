"""Validation of OpenLineage events against the shipped JSON Schemas: offline, by the
version the event's schemaURL names, errors naming the JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import referencing.exceptions

from modelatlas.lineage.openlineage import (
    OpenLineageInvalid,
    name_for,
    namespace_for,
    shipped_versions,
    validate_event,
)
from modelatlas.lineage.openlineage import schemas as ol_schemas
from modelatlas.refs import Ref

EVENTS = Path(__file__).parent / "openlineage_events"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def paths(exc: pytest.ExceptionInfo[OpenLineageInvalid]) -> list[str]:
    return [e.path for e in exc.value.errors]


def test_every_published_version_is_shipped() -> None:
    assert shipped_versions() == ["1-0-0", "1-0-1", "1-0-2", "1-0-3", "1-0-4", "1-0-5",
                                  "2-0-0", "2-0-1", "2-0-2"]


@pytest.mark.parametrize(("name", "version"), [
    ("airflow_dag_start", (1, 0, 5)), ("spark_complete", (2, 0, 2)),
    ("dbt_dataset_event", (2, 0, 2)),
])
def test_fixtures_validate_under_the_version_their_schema_url_names(
    name: str, version: tuple[int, int, int]
) -> None:
    assert validate_event(event(name)) == version


def test_an_unshipped_minor_version_uses_the_newest_of_its_major() -> None:
    e = event("spark_complete")
    e["schemaURL"] = "https://openlineage.io/spec/2-0-9/OpenLineage.json#/$defs/RunEvent"
    assert validate_event(e) == (2, 0, 2)


@pytest.mark.parametrize(("url", "message"), [
    (None, "required"),
    ("https://example.com/my/OpenLineage.json", "not an OpenLineage schema URL"),
    ("https://openlineage.io/spec/3-0-0/OpenLineage.json", "not supported"),
])
def test_absent_foreign_or_unknown_major_schema_url_is_refused(
    url: str | None, message: str
) -> None:
    e = event("spark_complete")
    if url is None:
        del e["schemaURL"]
    else:
        e["schemaURL"] = url
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(e, "/3")
    assert paths(exc) == ["/3/schemaURL"]
    assert message in exc.value.errors[0].message
    assert exc.value.status == 422


def test_errors_name_each_json_path_in_the_event_and_its_facets() -> None:
    e = event("spark_complete")
    del e["job"]["name"]
    e["eventTime"] = "yesterday"
    e["run"]["runId"] = "not-a-uuid"
    e["run"]["facets"]["parent"]["run"]["runId"] = "nope"
    del e["outputs"][0]["facets"]["schema"]["fields"][1]["name"]
    e["inputs"][1]["facets"]["schema"]["_producer"] = 7
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(e)
    assert sorted(paths(exc)) == sorted([
        "/job", "/eventTime", "/run/runId", "/run/facets/parent/run/runId",
        "/outputs/0/facets/schema/fields/1", "/inputs/1/facets/schema/_producer",
    ])
    assert "'name' is a required property" in exc.value.detail


def test_a_wrong_event_type_is_named() -> None:
    e = event("spark_complete")
    e["eventType"] = "FINISHED"
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(e, "/0")
    assert paths(exc) == ["/0/eventType"]


def test_old_versions_are_checked_whole() -> None:
    e = event("airflow_dag_start")
    e["schemaURL"] = "https://openlineage.io/spec/1-0-0/OpenLineage.json#/definitions/RunEvent"
    e["run"]["facets"] = {}
    del e["job"]["facets"]
    assert validate_event(e) == (1, 0, 0)
    e["job"]["namespace"] = 3
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(e)
    assert paths(exc) == ["/job/namespace"]


def test_a_valid_part_seen_before_is_still_checked_in_a_new_event() -> None:
    """The memo is keyed by content: a facet that was valid once is valid again, and a
    changed facet is checked afresh."""
    e = event("spark_complete")
    validate_event(e)
    bad = copy.deepcopy(e)
    bad["job"]["facets"]["jobType"]["processingType"] = 5
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(bad)
    assert paths(exc) == ["/job/facets/jobType/processingType"]


def test_validation_never_fetches_and_an_unknown_remote_ref_is_an_error() -> None:
    registry = ol_schemas.shipped().registry
    with pytest.raises(referencing.exceptions.NoSuchResource):
        registry.get_or_retrieve("https://openlineage.io/spec/facets/9-9-9/Nope.json")
    # every $ref in every shipped schema resolves from the registry alone
    for uri in registry:
        resolver = registry.resolver(uri)
        _resolve_all(resolver, registry.contents(uri))


def _resolve_all(resolver: Any, node: Any) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("http"):
            resolver.lookup(ref)  # raises if it is not shipped: nothing is fetched
        for value in node.values():
            _resolve_all(resolver, value)
    elif isinstance(node, list):
        for value in node:
            _resolve_all(resolver, value)


def test_validation_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("validation opened a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    e = event("spark_complete")
    e["run"]["facets"]["custom"] = {"_producer": "https://acme.dev",
                                    "_schemaURL": "https://acme.dev/schemas/Custom.json"}
    e["run"]["facets"]["future"] = {
        "_producer": "https://acme.dev",
        "_schemaURL": "https://openlineage.io/spec/facets/9-0-0/NotShippedRunFacet.json"}
    assert validate_event(e) == (2, 0, 2)


@pytest.mark.parametrize("original", [
    "postgres://db.acme.internal:5432", "s3://acme-raw", "airflow-prod", "Spark_Cluster",
    "x" * 100, "",
])
def test_namespaces_map_to_valid_distinct_stable_namespaces(original: str) -> None:
    mapped = namespace_for(original)
    assert Ref.of("dataset", mapped, "n", "1").namespace == mapped
    assert namespace_for(original) == mapped
    assert namespace_for(original + "/") != mapped


@pytest.mark.parametrize("original", [
    "shop.public.orders", "/events/customers", "a b", "../x", "emoji\u200bname", "x" * 300,
])
def test_names_map_to_valid_distinct_stable_names(original: str) -> None:
    mapped = name_for(original)
    assert Ref.of("dataset", "ns", mapped, "1").name == mapped
    assert name_for(original + "/") != mapped
    if original == "shop.public.orders":
        assert mapped == original  # valid names are kept as they are
