"""The fast paths of OpenLineage ingestion agree with the checks they stand in front of:
the compiled validator (jsonschema_rs) accepts what jsonschema accepts and sends the rest
to it for the errors; the C-speed screen accepts only what jsonsafe.check_tree accepts."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from modelatlas.errors import MalformedBody
from modelatlas.jsonsafe import check_tree
from modelatlas.lineage.openlineage import OpenLineageInvalid, plainly_safe, validate_event
from modelatlas.lineage.openlineage import schemas as ol_schemas
from modelatlas.lineage.openlineage.mapping import _schema
from modelatlas.refs import Ref

EVENTS = Path(__file__).parent / "openlineage_events"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def _fast(e: dict[str, Any]) -> bool:
    document = ol_schemas.shipped().core[ol_schemas.core_version(e["schemaURL"])]
    split = all(name in document.get("$defs", {}) for name in ol_schemas._FACET_DEFS)
    return ol_schemas._valid_fast(ol_schemas._definition(document, e), e, facets=split)


@pytest.mark.parametrize("name", ["airflow_dag_start", "spark_complete", "dbt_dataset_event"])
def test_the_compiled_validator_accepts_the_valid_fixtures(name: str) -> None:
    assert _fast(event(name))  # else every event would take the slow path


@pytest.mark.parametrize(("change", "path"), [
    (lambda e: e["run"].__setitem__("runId", "not-a-uuid"), "/run/runId"),
    (lambda e: e.__setitem__("eventTime", "2024-05-01T10:15:42"), "/eventTime"),  # no offset
    (lambda e: e["run"]["facets"]["parent"]["run"].__setitem__("runId", "x"),
     "/run/facets/parent/run/runId"),
    (lambda e: e["outputs"][0]["facets"]["schema"]["fields"][0].__setitem__("name", 5),
     "/outputs/0/facets/schema/fields/0/name"),
    (lambda e: e["job"]["facets"]["jobType"].__setitem__("processingType", 5),
     "/job/facets/jobType/processingType"),
])
def test_an_event_the_compiled_validator_refuses_is_explained_by_path(
    change: Any, path: str
) -> None:
    e = event("spark_complete")
    change(e)
    assert not _fast(e)
    with pytest.raises(OpenLineageInvalid) as exc:
        validate_event(e)
    assert [err.path for err in exc.value.errors] == [path]


def test_uri_formats_are_not_checked_by_either_validator() -> None:
    e = event("spark_complete")
    e["producer"] = "not a uri at all"
    assert _fast(e)
    validate_event(e)


def test_the_compiled_validator_never_fetches_an_unknown_reference() -> None:
    asked: list[str] = []
    retrieve = ol_schemas._retrieve_nothing

    def spy(uri: str) -> Any:
        asked.append(uri)
        return retrieve(uri)

    ol_schemas._compiled.cache_clear()
    try:
        ol_schemas._retrieve_nothing = spy  # type: ignore[assignment]
        assert ol_schemas._compiled("https://openlineage.io/spec/facets/9-9-9/Nope.json") is None
    finally:
        ol_schemas._retrieve_nothing = retrieve  # type: ignore[assignment]
        ol_schemas._compiled.cache_clear()
    assert asked == ["https://openlineage.io/spec/facets/9-9-9/Nope.json"]


def _deep(levels: int, *, mixed: bool = False) -> Any:
    """``levels`` nested containers; ``mixed``: lists and objects in turn, the deepest
    branch last among shallow siblings (the screen peels brackets of both kinds)."""
    node: Any = {"x": "leaf"}
    for level in range(1, levels):
        node = [[], {"a": 1}, node] if mixed and level % 2 else {"x": node, "y": []}
    return node


SAFE = [{"s": "plain"}, {"s": "1234567890123456"}, {"n": 10**14}, {"n": -(10**14)},
        {"f": 1.5e300},
        {"s": "brackets ]]]}}} and \"quotes\\"}, {"s": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["},
        _deep(30), _deep(31), _deep(31, mixed=True)]
UNSAFE = [{"s": "has \x00 nul"}, {"k\x00": 1}, {"s": "lone \ud800"}, {"k\udc00": 1},
          {"n": 2**53}, {"n": -(2**53)}, {"n": 2**70}, _deep(32), _deep(40),
          _deep(32, mixed=True)]


@pytest.mark.parametrize("value", SAFE + UNSAFE)
def test_the_screen_passes_only_what_check_tree_accepts(value: Any) -> None:
    try:
        check_tree([value])
        accepted = True
    except MalformedBody:
        accepted = False
    assert accepted == (value in SAFE)  # the cases are what they claim
    assert plainly_safe([value]) == accepted


@pytest.mark.parametrize("value", [{"s": "a literal \\u0000"}, {"n": 2**53 - 1}])
def test_a_look_alike_goes_on_to_check_tree_which_accepts_it(value: Any) -> None:
    assert not plainly_safe([value])
    check_tree([value])


def test_the_screen_lets_realistic_events_through() -> None:
    assert plainly_safe([event("spark_complete"), event("airflow_dag_start")])


@pytest.mark.parametrize("second_type", ["x", 7])
def test_schema_versions_are_the_digest_of_the_fields_whatever_the_encoder(
    second_type: Any
) -> None:
    """Text fields take orjson, anything else json: both give the reference bytes."""
    fields = [{"name": "naïve ✓ \"q\" \\ \n \u2028 \U0001f600", "type": "string"},
              {"name": "id", "type": second_type}]
    planned = _schema(Ref("dataset", "ns", "t", "live"), {"fields": copy.deepcopy(fields)})
    assert planned is not None
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert planned[0].version == hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
