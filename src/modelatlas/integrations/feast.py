"""A Feast feature repository, read from ``feast registry-dump`` and mapped onto ModelAtlas
assets (no database here: :mod:`modelatlas.registry._feast_import` writes them).

ModelAtlas does not depend on the ``feast`` package (it is heavy and pins pandas and
pyarrow): the repository's own ``feast`` command prints its registry as JSON (protobuf's
JSON form: camelCase keys, ``"86400s"`` durations), and :func:`parse_registry_dump` reads
that. :func:`run_registry_dump` runs the command in a repository directory for the CLI.

What is read: ``featureViews``, ``streamFeatureViews`` (their batch source) and
``onDemandFeatureViews`` (the views and request sources they read, and the transformation's
text), ``entities`` and ``dataSources``. Each view's *digest* is taken over the fields that
define what it serves (features with their types, entities and their join keys, the source's
location, ttl, transformation), never over Feast's bookkeeping (timestamps, ``meta``), so
``feast apply`` of an unchanged repository reads as unchanged; a source's digest likewise.
The mapping is in docs/integrations.md ("Feast import").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelatlas.errors import FieldError, InvalidInput, Unavailable
from modelatlas.jsonsafe import canonical

__all__ = [
    "FeastEntity",
    "FeastField",
    "FeastRepo",
    "FeastSource",
    "FeastUnavailable",
    "FeastView",
    "asset_name",
    "definition_digest",
    "dtype_name",
    "parse_registry_dump",
    "read_registry_dump",
    "run_registry_dump",
]

# Feast's ValueType names -> the dtypes ModelAtlas's feature metadata shows (FLOAT is
# Feast's Float32, DOUBLE its Float64); a list type keeps its element's name
_DTYPES = {"INT32": "int32", "INT64": "int64", "FLOAT": "float32", "DOUBLE": "float64",
           "STRING": "string", "BYTES": "bytes", "BOOL": "bool",
           "UNIX_TIMESTAMP": "timestamp"}
_NOT_NAME = re.compile(r"[^\w.-]+")
_DURATION = re.compile(r"^(\d+)(?:\.\d+)?s$")
_DUMMY = "__dummy"  # Feast's stand-in entity of entity-less views
_TIMEOUT = 600  # seconds: `feast` imports its world before it prints anything
_TRANSFORMATION_MAX = 4000


class FeastUnavailable(Unavailable):
    code = "feast_unavailable"
    title = "Feast unavailable"
    remedy = ("Install Feast where the repository is (pip install feast) and pass its "
              "`feast` command with --feast, or run `feast registry-dump > dump.json` there "
              "and import that file.")


def asset_name(name: str) -> str:
    """A Feast name in the ref grammar (Feast allows what refs refuse, such as spaces)."""
    cleaned = _NOT_NAME.sub("-", name).strip("-.")
    return cleaned[:200] or "unnamed"


def dtype_name(value_type: str) -> str:
    """``INT64`` -> ``int64``, ``FLOAT_LIST`` -> ``list<float32>``; unknown names lowered."""
    if value_type.endswith("_LIST"):
        return f"list<{dtype_name(value_type[:-len('_LIST')])}>"
    return _DTYPES.get(value_type, value_type.lower())


def definition_digest(value: Any) -> str:
    """The digest of a definition: SHA-256 of its canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical(value)).hexdigest()


def _seconds(ttl: Any) -> int | None:
    """Protobuf's JSON duration (``"86400s"``); 0 means no expiry in Feast."""
    found = _DURATION.match(str(ttl or ""))
    seconds = int(found.group(1)) if found else 0
    return seconds or None


@dataclass(frozen=True)
class FeastField:
    name: str
    dtype: str


@dataclass(frozen=True)
class FeastEntity:
    name: str
    join_key: str
    value_type: str | None
    description: str


@dataclass(frozen=True)
class FeastSource:
    """A data source: where a view's rows come from (a file, a table, a query, a stream's
    batch side, or a request's fields)."""

    name: str
    type: str  # Feast's DataSource.type: BATCH_FILE, BATCH_BIGQUERY, REQUEST_SOURCE ...
    location: str | None  # a file path or URI, a table name, or a query
    file_format: str | None
    timestamp_field: str | None
    fields: tuple[FeastField, ...] = ()  # a request source's schema

    @property
    def is_dataset(self) -> bool:
        """Whether the source names stored data (a request source is the caller's input)."""
        return self.type != "REQUEST_SOURCE" and self.location is not None

    @property
    def definition(self) -> dict[str, Any]:
        return {"type": self.type, "location": self.location, "format": self.file_format,
                "timestamp_field": self.timestamp_field,
                "fields": [[f.name, f.dtype] for f in self.fields]}

    @property
    def digest(self) -> str:
        return definition_digest(self.definition)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> FeastSource:
        kind = str(raw.get("type") or "UNKNOWN")
        location = _location(raw)
        file_format = None
        options = raw.get("fileOptions") or {}
        if options:
            found = options.get("fileFormat") or {}
            file_format = "parquet" if "parquetFormat" in found or str(
                location or "").endswith(".parquet") else next(iter(found), None)
        schema = (raw.get("requestDataOptions") or {}).get("schema") or []
        return cls(name=str(raw.get("name") or "unnamed"), type=kind, location=location,
                   file_format=file_format, timestamp_field=raw.get("timestampField") or None,
                   fields=tuple(FeastField(str(f.get("name")),
                                           dtype_name(str(f.get("valueType", "UNKNOWN"))))
                                for f in schema))


def _location(raw: dict[str, Any]) -> str | None:
    """Where a source's data is: the first location its options name."""
    for key, fields in (("fileOptions", ("uri",)),
                        ("bigqueryOptions", ("table", "query")),
                        ("snowflakeOptions", ("table", "query")),
                        ("redshiftOptions", ("table", "query")),
                        ("sparkOptions", ("path", "table", "query")),
                        ("trinoOptions", ("table", "query")),
                        ("customOptions", ("configuration",))):
        options = raw.get(key) or {}
        for name in fields:
            if options.get(name):
                return str(options[name])
    return None


@dataclass(frozen=True)
class FeastView:
    """A feature view (batch, stream or on-demand) as ModelAtlas records it."""

    name: str
    view_type: str  # feature_view, stream_feature_view, on_demand_feature_view
    entities: tuple[str, ...]
    entity_columns: tuple[FeastField, ...]
    features: tuple[FeastField, ...]
    source: FeastSource | None  # the batch source (none for an on-demand view)
    inputs: tuple[str, ...]  # an on-demand view's input views and request sources
    ttl_seconds: int | None
    online: bool
    tags: dict[str, str]
    owner: str | None
    description: str
    transformation: str | None

    @property
    def definition(self) -> dict[str, Any]:
        """What the view serves and how: the fields its digest is taken over."""
        return {"type": self.view_type, "entities": sorted(self.entities),
                "entity_columns": [[f.name, f.dtype] for f in self.entity_columns],
                "features": [[f.name, f.dtype] for f in self.features],
                "source": None if self.source is None else self.source.definition,
                "inputs": sorted(self.inputs), "ttl_seconds": self.ttl_seconds,
                "transformation": self.transformation}

    @property
    def digest(self) -> str:
        return definition_digest(self.definition)


@dataclass(frozen=True)
class FeastRepo:
    project: str
    views: list[FeastView] = field(default_factory=list)
    entities: dict[str, FeastEntity] = field(default_factory=dict)
    sources: dict[str, FeastSource] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _fields(items: Any) -> tuple[FeastField, ...]:
    return tuple(FeastField(str(f.get("name")), dtype_name(str(f.get("valueType", "UNKNOWN"))))
                 for f in items or [] if isinstance(f, dict) and f.get("name"))


def _tags(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw or {}).items()} if isinstance(raw, dict) else {}


def _view(spec: dict[str, Any], view_type: str) -> FeastView:
    source = spec.get("batchSource")
    return FeastView(
        name=str(spec.get("name")), view_type=view_type,
        entities=tuple(e for e in spec.get("entities") or [] if not e.startswith(_DUMMY)),
        entity_columns=tuple(f for f in _fields(spec.get("entityColumns"))
                             if not f.name.startswith(_DUMMY)),
        features=_fields(spec.get("features")),
        source=FeastSource.of(source) if isinstance(source, dict) else None, inputs=(),
        ttl_seconds=_seconds(spec.get("ttl")), online=bool(spec.get("online", False)),
        tags=_tags(spec.get("tags")), owner=spec.get("owner") or None,
        description=str(spec.get("description") or ""), transformation=None)


def _on_demand(spec: dict[str, Any]) -> FeastView:
    inputs = []
    for key, item in sorted((spec.get("sources") or {}).items()):
        projection = (item.get("featureViewProjection") or {}).get("featureViewName")
        request = (item.get("requestDataSource") or {}).get("name")
        inputs.append(str(projection or request or key))
    udf = (spec.get("featureTransformation") or {}).get("userDefinedFunction") or \
        spec.get("userDefinedFunction") or {}
    body = udf.get("bodyText") or udf.get("name")
    return FeastView(
        name=str(spec.get("name")), view_type="on_demand_feature_view",
        entities=tuple(e for e in spec.get("entities") or [] if not e.startswith(_DUMMY)),
        entity_columns=(), features=_fields(spec.get("features")), source=None,
        inputs=tuple(inputs), ttl_seconds=None, online=bool(spec.get("online", True)),
        tags=_tags(spec.get("tags")), owner=spec.get("owner") or None,
        description=str(spec.get("description") or ""),
        transformation=None if body is None else str(body)[:_TRANSFORMATION_MAX])


_VIEW_KEYS = (("featureViews", "feature_view"), ("streamFeatureViews", "stream_feature_view"),
              ("onDemandFeatureViews", "on_demand_feature_view"))


def parse_registry_dump(dump: Any, *, path: str = "/dump") -> FeastRepo:
    """What ``feast registry-dump`` printed (parsed JSON) -> the repository's views,
    entities and sources. Not a registry dump: :class:`InvalidInput` at ``path``."""
    known = ("entities", "dataSources", *(k for k, _ in _VIEW_KEYS))
    if not isinstance(dump, dict) or not any(k in dump for k in known):
        raise InvalidInput(
            "not the output of `feast registry-dump`: a JSON object with featureViews, "
            "entities and dataSources", errors=[FieldError(path, "a Feast registry dump")])
    notes: list[str] = []
    entities = {}
    for item in dump.get("entities") or []:
        spec = item.get("spec") or {}
        name = str(spec.get("name") or "")
        if name and not name.startswith(_DUMMY):
            entities[name] = FeastEntity(name=name, join_key=str(spec.get("joinKey") or name),
                                         value_type=spec.get("valueType"),
                                         description=str(spec.get("description") or ""))
    sources = {str(s["name"]): FeastSource.of(s) for s in dump.get("dataSources") or []
               if isinstance(s, dict) and s.get("name")}
    views = []
    for key, view_type in _VIEW_KEYS:
        for index, item in enumerate(dump.get(key) or []):
            spec = item.get("spec") if isinstance(item, dict) else None
            if not isinstance(spec, dict) or not spec.get("name"):
                notes.append(f"{key}[{index}] skipped: it has no spec.name")
                continue
            view = _on_demand(spec) if view_type == "on_demand_feature_view" \
                else _view(spec, view_type)
            views.append(view)
            if view.source is not None and view.source.name not in sources:
                sources[view.source.name] = view.source
    views.sort(key=lambda v: v.name)
    return FeastRepo(project=str(dump.get("project") or ""), views=views, entities=entities,
                     sources=sources, notes=notes)


def read_registry_dump(text: str, *, path: str = "/dump") -> FeastRepo:
    """:func:`parse_registry_dump` of a dump's text (JSON)."""
    try:
        dump = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"not the output of `feast registry-dump` (JSON): {exc}",
                           errors=[FieldError(path, "JSON from `feast registry-dump`")]) from None
    return parse_registry_dump(dump, path=path)


def run_registry_dump(repo: Path, *, feast: str = "feast", timeout: float = _TIMEOUT) -> str:
    """Run ``feast registry-dump`` in the feature repository ``repo`` (the directory of its
    ``feature_store.yaml``) and return what it printed."""
    if not (repo / "feature_store.yaml").is_file():
        raise InvalidInput(f"{repo} is not a Feast feature repository: it has no "
                           "feature_store.yaml", errors=[FieldError("/repo", "a Feast repo")])
    command = shutil.which(feast)
    if command is None:
        raise FeastUnavailable(f"the Feast command {feast!r} was not found",
                               errors=[FieldError("/feast", "a `feast` executable")])
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        done = subprocess.run([command, "registry-dump"], cwd=repo, capture_output=True,
                              text=True, timeout=timeout, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FeastUnavailable(f"`feast registry-dump` did not run in {repo}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise FeastUnavailable(f"`feast registry-dump` failed in {repo} (exit "
                               f"{done.returncode}): {' '.join(tail)}")
    return done.stdout
