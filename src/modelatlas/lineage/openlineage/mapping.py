"""OpenLineage events as changes to the graph: what each event says about which asset.

Pure functions, no database: :class:`Plan` collects, for a batch of validated events, the
updates of each asset (in event order) and the edges, and :func:`fold` applies an asset's
updates to its current metadata and ``custom`` fields. The service layer loads what exists,
folds, and writes only what changed, so a re-delivered event changes nothing.

See docs/openlineage.md for the mapping as a table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from pydantic import TypeAdapter

from modelatlas.lineage.openlineage.naming import dataset_ref, job_ref, run_ref, schema_ref
from modelatlas.refs import Ref

# OpenLineage eventType -> the run kind's status (kinds/schemas.py RunMeta.status).
STATUS = {"START": "running", "RUNNING": "running", "COMPLETE": "completed",
          "FAIL": "failed", "ABORT": "aborted"}
TERMINAL = frozenset({"completed", "failed", "aborted"})
_COMMIT = frozenset("0123456789abcdef")

Values = tuple[dict[str, Any], dict[str, Any]]  # metadata, custom
Update = Callable[[dict[str, Any], dict[str, Any]], None]  # mutates metadata and custom


@dataclass
class Plan:
    """What a batch of events writes: per asset ref, its updates in order; the edges."""

    refs: dict[str, Ref] = field(default_factory=dict)
    updates: dict[str, list[Update]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    count: int = 0  # the events planned
    # per ref, what its last update does when that update is idempotent (see touch_once)
    _last: dict[str, Hashable] = field(default_factory=dict, repr=False)

    def touch(self, ref: Ref, update: Update | None = None) -> str:
        return self._touch(str(ref), ref, update)

    def touch_once(self, ref: Ref, same: Hashable, make: Callable[[], Update]) -> str:
        """Touch ``ref`` with an idempotent update that ``same`` describes, made by
        ``make`` unless the ref's last update is that same one: applied twice in a row it
        changes nothing, and a batch repeats it in every event that names the job,
        dataset or schema (the closures and the copies of a schema's fields were a good
        part of a batch's mapping and of its work for the cyclic collector)."""
        return self._touch_once(str(ref), ref, same, make)

    def edge(self, source: Ref, relation: str, target: Ref,
             properties: dict[str, Any] | None = None) -> None:
        self._edge(str(source), relation, str(target), properties)

    # The same with the ref's text known: the jobs, runs, datasets and schemas of a batch
    # are named again in every event (a column-lineage facet once per column), and their
    # texts come from the caches of _named (formatting a ref each time was a tenth of
    # the mapping).
    def _touch(self, key: str, ref: Ref, update: Update | None = None) -> str:
        updates = self.updates.get(key)
        if updates is None:
            self.refs[key] = ref
            updates = self.updates[key] = []
        if update is not None:
            updates.append(update)
            self._last[key] = _SOMETHING
        return key

    def _touch_once(self, key: str, ref: Ref, same: Hashable,
                    make: Callable[[], Update]) -> str:
        self._touch(key, ref)
        if self._last.get(key, _SOMETHING) != same:
            self.updates[key].append(make())
            self._last[key] = same
        return key

    def _edge(self, source: str, relation: str, target: str,
              properties: dict[str, Any] | None = None) -> None:
        key = (source, relation, target)
        if key not in self.edges:
            self.edges[key] = properties or {}

    def add(self, event: dict[str, Any]) -> None:
        """Map one validated event (run, dataset or job event)."""
        self.count += 1
        if "run" in event:
            self._run_event(event)
        elif "dataset" in event:
            self._dataset(event["dataset"], event)
        else:
            self._job(event["job"])
            for side in ("inputs", "outputs"):
                for dataset in event.get(side) or []:
                    self._dataset(dataset, event)

    # jobs and runs ----------------------------------------------------------------------
    def _job(self, job: dict[str, Any]) -> str:
        ref, key = _named(job_ref, job["namespace"], job["name"])
        return self._touch_once(
            key, ref, ("job", job["namespace"], job["name"], _bytes(job.get("facets"))),
            lambda: _job_update(job))

    def _run_event(self, event: dict[str, Any]) -> None:
        job = self._job(event["job"])
        run_ref_, run = _named(run_ref, event["job"]["namespace"], event["run"]["runId"])
        self._touch(run, run_ref_, _run_update(event))
        self._edge(run, "associated_with", job)
        parent = (event["run"].get("facets") or {}).get("parent")
        if isinstance(parent, dict) and "run" in parent and "job" in parent:
            self._parent(run, parent)
        for dataset in event.get("inputs") or []:
            self._edge(run, "used", self._dataset(dataset, event))
        for dataset in event.get("outputs") or []:
            self._edge(run, "produced", self._dataset(dataset, event))

    def _parent(self, child: str, facet: dict[str, Any]) -> None:
        """The parent run may not have sent an event yet: it is created, as running, with
        its job, and completed when its own events arrive."""
        parent_job = self._job({"namespace": facet["job"]["namespace"],
                                "name": facet["job"]["name"]})
        parent_ref, parent = _named(run_ref, facet["job"]["namespace"], facet["run"]["runId"])
        run_id, job = facet["run"]["runId"], facet["job"]

        def placeholder(meta: dict[str, Any], custom: dict[str, Any]) -> None:
            ol = custom.setdefault("openlineage", {})
            ol.setdefault("runId", run_id)
            ol.setdefault("job", {"namespace": job["namespace"], "name": job["name"]})
            meta.setdefault("run_type", "openlineage")
            meta.setdefault("status", "running")

        self._touch_once(parent, parent_ref, ("parent", run_id, job["namespace"], job["name"]),
                         lambda: placeholder)
        self._edge(parent, "associated_with", parent_job)
        self._edge(child, "part_of", parent)

    # datasets ---------------------------------------------------------------------------
    def _dataset(self, dataset: dict[str, Any], event: dict[str, Any]) -> str:
        namespace, name = dataset["namespace"], dataset["name"]
        ref, key = _named(dataset_ref, namespace, name)
        facets = dataset.get("facets") or {}
        schema = _schema_shared(ref, facets.get("schema"))
        schema_key = None
        if schema is not None:
            schema_ref_, schema_key, fields = schema
            # copies: the fields become each schema asset's own metadata
            self._touch_once(schema_key, schema_ref_, ("schema", namespace, name),
                             lambda: _schema_update(dataset, [dict(item) for item in fields]))
            self._edge(key, "conforms_to", schema_key)
        lineage = facets.get("columnLineage")
        if isinstance(lineage, dict):  # names this event's run: never the same update
            self._touch(key, ref, _dataset_update(dataset, schema_key,
                                                  _column_lineage(lineage, event)))
        else:
            self._touch_once(key, ref, ("dataset", namespace, name, str(schema_key)),
                             lambda: _dataset_update(dataset, schema_key, None))
        return key


@lru_cache(maxsize=65536)
def _named(make: Callable[[str, str], Ref], namespace: str, name: str) -> tuple[Ref, str]:
    """A job's, run's or dataset's ref (``make`` is its naming function) and its text."""
    ref = make(namespace, name)
    return ref, str(ref)


_SOMETHING = object()  # the last update of a ref is not idempotent: nothing equals it


def _bytes(value: Any) -> bytes | object:
    """``value`` as JSON bytes, to compare facets; a value without them compares unequal."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return object()


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _job_update(job: dict[str, Any]) -> Update:
    facets = job.get("facets") or {}
    source = facets.get("sourceCodeLocation") or {}

    def update(meta: dict[str, Any], custom: dict[str, Any]) -> None:
        ol = custom.setdefault("openlineage", {})
        ol["namespace"], ol["name"] = job["namespace"], job["name"]
        if facets:
            ol["facets"] = {**ol.get("facets", {}), **facets}
        _set(meta, "repository", source.get("repoUrl") or source.get("url"))
        _set(meta, "path", source.get("path"))
        _set(meta, "branch", source.get("branch"))
        commit = str(source.get("version") or "").lower()
        if 7 <= len(commit) <= 64 and set(commit) <= _COMMIT:
            meta["commit"] = commit

    return update


_TIME = TypeAdapter(datetime)


def utc(time: str) -> str:
    """An event time as the run kind stores it (UTC, pydantic's form), so times compare
    as text and a re-delivered event folds to exactly the stored values."""
    parsed = datetime.fromisoformat(time).astimezone(UTC)
    return str(_TIME.dump_python(parsed, mode="json"))


def _rank(status: str | None, time: str | None) -> tuple[bool, str]:
    return (status in TERMINAL, time or "")


def _run_update(event: dict[str, Any]) -> Update:
    """One event's effect on its run. The status follows the latest event, except that a
    finished run (COMPLETE, FAIL, ABORT) never goes back to running when a late START or
    RUNNING arrives; OTHER adds facets only."""
    kind, time = event.get("eventType"), utc(event["eventTime"])
    run, job = event["run"], event["job"]

    def update(meta: dict[str, Any], custom: dict[str, Any]) -> None:
        ol = custom.setdefault("openlineage", {})
        ol["runId"] = run["runId"]
        ol["job"] = {"namespace": job["namespace"], "name": job["name"]}
        if run.get("facets"):
            ol["facets"] = {**ol.get("facets", {}), **run["facets"]}
        meta.setdefault("run_type", "openlineage")
        meta.setdefault("status", "running")
        status = STATUS.get(str(kind))
        if status is not None and _rank(status, time) >= _rank(meta["status"],
                                                               ol.get("eventTime")):
            meta["status"], ol["eventTime"], ol["eventType"] = status, time, kind
        if kind == "START" and (meta.get("started_at") is None or time < meta["started_at"]):
            meta["started_at"] = time
        if status in TERMINAL and meta["status"] == status:
            meta["ended_at"] = time

    return update


def _schema(dataset: Ref, facet: Any) -> tuple[Ref, list[dict[str, Any]]] | None:
    """The schema asset a schema facet names: its version is a digest of its fields, so
    the same columns always name the same schema version."""
    found = _schema_shared(dataset, facet)
    if found is None:
        return None
    # copies: the fields become each schema asset's own metadata
    return found[0], [dict(item) for item in found[2]]


def _schema_shared(dataset: Ref,
                   facet: Any) -> tuple[Ref, str, list[dict[str, Any]]] | None:
    """:func:`_schema` with the ref's text, and the fields as remembered (shared: copy
    before storing them)."""
    if not isinstance(facet, dict) or not isinstance(facet.get("fields"), list):
        return None
    try:
        sent = orjson.dumps(facet["fields"])
    except TypeError:  # not JSON data: computed, not remembered
        found = _flat_fields(facet["fields"])
    else:
        found = _flat_fields_of(sent, facet["fields"])
    if found is None:
        return None
    digest, fields = found
    return (*_named_schema(dataset.namespace, dataset.name, digest), fields)


@lru_cache(maxsize=65536)
def _named_schema(namespace: str, name: str, digest: str) -> tuple[Ref, str]:
    ref = schema_ref(Ref("dataset", namespace, name), digest)
    return ref, str(ref)


def schema_for(dataset: Ref,
               fields: list[dict[str, Any]]) -> tuple[Ref, list[dict[str, Any]]] | None:
    """The schema asset (ref, flattened fields) that a schema facet with ``fields`` makes
    for ``dataset``: what catalog reconciliation compares and syncs, so a schema it writes
    is the one OpenLineage ingestion would write for the same columns."""
    return _schema(dataset, {"fields": fields})


_FIELDS_SEEN: dict[bytes, tuple[str, list[dict[str, Any]]] | None] = {}
_FIELDS_SEEN_MAX = 4096
_UNSEEN = object()


def _flat_fields_of(sent: bytes, fields: list[Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """:func:`_flat_fields` remembered by the fields as sent: every event of a job repeats
    its datasets' schemas, and flattening and hashing them was a fifth of the mapping. A
    pure function of the bytes, so the memory is only a cache (dropped when full)."""
    found = _FIELDS_SEEN.get(sent, _UNSEEN)  # one lookup: another thread may clear it
    if found is not _UNSEEN:
        return found  # type: ignore[return-value]
    found = _flat_fields(fields)
    if len(_FIELDS_SEEN) >= _FIELDS_SEEN_MAX:
        _FIELDS_SEEN.clear()
    _FIELDS_SEEN[sent] = found
    return found


def _flat_fields(raw: list[Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """The schema's version (a digest of its flattened fields) and the fields."""
    fields = _flatten(raw)
    if not fields:
        return None
    if all(type(value) is str for item in fields for value in item.values()):
        # the same bytes as json.dumps below for text (checked over the BMP), 5x faster
        data = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    else:
        data = json.dumps(fields, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16], fields


def _flatten(fields: list[Any], prefix: str = "") -> list[dict[str, Any]]:
    """Nested struct fields as dotted names (``address.city``): the schema kind is flat."""
    flat: list[dict[str, Any]] = []
    for item in fields:
        name = f"{prefix}{item['name']}"
        out: dict[str, Any] = {"name": name, "type": item.get("type") or "unknown"}
        _set(out, "description", item.get("description"))
        flat.append(out)
        if isinstance(item.get("fields"), list):
            flat += _flatten(item["fields"], f"{name}.")
    return flat


def _schema_update(dataset: dict[str, Any], fields: list[dict[str, Any]]) -> Update:
    def update(meta: dict[str, Any], custom: dict[str, Any]) -> None:
        meta["fields"] = fields
        custom["openlineage"] = {"namespace": dataset["namespace"], "name": dataset["name"]}

    return update


def _column_lineage(facet: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The facet as sent, each input field with the ref its dataset maps to, and the run
    that wrote it."""
    fields: dict[str, Any] = {}
    for column, spec in (facet.get("fields") or {}).items():
        inputs = [
            {**source, "ref": _named(dataset_ref, source["namespace"], source["name"])[1]}
            for source in spec.get("inputFields") or []
        ]
        fields[column] = {**spec, "inputFields": inputs}
    lineage: dict[str, Any] = {"fields": fields}
    if "dataset" in facet:
        lineage["dataset"] = facet["dataset"]
    if "run" in event:
        lineage["runId"] = event["run"]["runId"]
    return lineage


def _dataset_update(
    dataset: dict[str, Any], schema: str | None, column_lineage: dict[str, Any] | None
) -> Update:
    namespace, name = dataset["namespace"], dataset["name"]

    def update(meta: dict[str, Any], custom: dict[str, Any]) -> None:
        ol = custom.setdefault("openlineage", {})
        ol["namespace"], ol["name"] = namespace, name
        if "://" in namespace:  # a URL; a bare namespace ("bigquery", a team's label)
            # would read as an unknown URI scheme: its identity stays in custom.openlineage
            meta.setdefault("location", f"{namespace.rstrip('/')}/{name.lstrip('/')}")
        if schema is not None:
            ol["schema"] = schema
        if column_lineage is not None:
            ol["columnLineage"] = column_lineage

    return update


def fold(updates: list[Update], current: Values | None) -> Values:
    """An asset's metadata and custom fields after ``updates`` (deep copies: the current
    values are compared with the result afterwards)."""
    meta, custom = (({}, {}) if current is None
                    else (orjson.loads(orjson.dumps(current[0])),
                          orjson.loads(orjson.dumps(current[1]))))
    for update in updates:
        update(meta, custom)
    return meta, custom
