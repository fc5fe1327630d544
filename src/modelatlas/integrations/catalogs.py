"""External catalog exports read into one normalised form, and compared field by field.

Two shapes are read (no network, no database: the caller parsed the JSON):

* **Marquez** — the answer of ``GET /api/v1/namespaces/{namespace}/datasets``:
  ``{"datasets": [{"id": {"namespace", "name"}, "namespace", "name", "physicalName",
  "fields": [{"name", "type", "tags", "description"}], "facets": {...}, ...}],
  "totalCount": N}``. Its datasets are OpenLineage datasets, so each maps to the ref
  OpenLineage ingestion gives it (:func:`modelatlas.lineage.openlineage.dataset_ref`):
  ``dataset:<namespace_for(ns)>/<name_for(name)>@live``. The fields come from ``fields``,
  or from the ``schema`` facet when ``fields`` is empty.
* **DataHub** — what the ``datahub`` CLI's file sink writes: a JSON list of MCEs
  (``{"proposedSnapshot": {"com.linkedin.pegasus2avro.metadata.snapshot.DatasetSnapshot":
  {"urn", "aspects": [{"com.linkedin.pegasus2avro.schema.SchemaMetadata": {"fields":
  [...]}}]}}}``) and MCPs (``{"entityType": "dataset", "entityUrn", "aspectName":
  "schemaMetadata", "aspect": {"json": {...}}}``, or the older ``{"value": "<json text>"}``).
  A dataset URN ``urn:li:dataset:(urn:li:dataPlatform:<platform>,<name>,<env>)`` maps
  as an OpenLineage dataset with namespace ``<platform>`` and name ``<name>`` would (the
  environment is kept in the entry, not in the ref). Each field is ``fieldPath``,
  ``nativeDataType`` (else the ``type`` union's short name) and ``nullable``. Other
  entities and aspects are skipped; the last schema of a dataset wins.

:func:`field_changes` compares a catalog's fields with the registry's (added, removed,
type changed); nullability counts only when the catalog states it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from modelatlas.errors import InvalidInput
from modelatlas.lineage.openlineage import dataset_ref
from modelatlas.refs import Ref

__all__ = [
    "FORMATS",
    "CatalogDataset",
    "CatalogField",
    "FieldChange",
    "detect_format",
    "field_changes",
    "read_catalog",
]

Format = Literal["marquez", "datahub"]
FORMATS: tuple[str, ...] = ("marquez", "datahub")
MAX_DATASETS = 50_000
_SNAPSHOT = "com.linkedin.pegasus2avro.metadata.snapshot.DatasetSnapshot"
_SCHEMA_ASPECT = "com.linkedin.pegasus2avro.schema.SchemaMetadata"
_URN_PREFIX = "urn:li:dataset:("
_PLATFORM_PREFIX = "urn:li:dataPlatform:"


@dataclass(frozen=True, slots=True)
class CatalogField:
    name: str
    type: str
    nullable: bool | None = None  # None: the catalog does not say
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogDataset:
    """One dataset of an export: where it came from, the ref it maps to, its fields
    (``None`` when the export carries no schema for it: then drift is not judged)."""

    namespace: str
    name: str
    ref: Ref
    fields: tuple[CatalogField, ...] | None
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    change: Literal["added", "removed", "type_changed"]
    catalog: str | None = None  # the type (and nullability) each side gives
    registry: str | None = None


def detect_format(export: Any) -> Format:
    """``marquez`` for an object holding ``datasets``, ``datahub`` for a list."""
    if isinstance(export, dict) and "datasets" in export:
        return "marquez"
    if isinstance(export, list):
        return "datahub"
    raise InvalidInput.at("/export", "not a Marquez dataset listing (an object with "
                                     "'datasets') nor a DataHub export (a JSON list)")


def read_catalog(export: Any, format: str = "auto") -> list[CatalogDataset]:
    """The datasets of ``export`` (a parsed JSON document) in ``format``
    (``auto``, ``marquez`` or ``datahub``), one entry per ref (the last one wins)."""
    if format == "auto":
        format = detect_format(export)
    if format == "marquez":
        found = _marquez(export)
    elif format == "datahub":
        found = _datahub(export)
    else:
        raise InvalidInput.at("/format", "one of auto, marquez, datahub")
    by_ref = {entry.ref: entry for entry in found}
    if len(by_ref) > MAX_DATASETS:
        raise InvalidInput.at("/export", f"at most {MAX_DATASETS} datasets per request")
    return list(by_ref.values())


# Marquez ------------------------------------------------------------------------------------

def _marquez(export: Any) -> list[CatalogDataset]:
    items = export.get("datasets") if isinstance(export, dict) else None
    if not isinstance(items, list):
        raise InvalidInput.at("/export/datasets", "a list of Marquez datasets")
    return [_marquez_dataset(item, f"/export/datasets/{i}") for i, item in enumerate(items)]


def _marquez_dataset(item: Any, path: str) -> CatalogDataset:
    if not isinstance(item, dict):
        raise InvalidInput.at(path, "a Marquez dataset (an object)")
    ident: dict[str, Any] = item["id"] if isinstance(item.get("id"), dict) else {}
    namespace = ident.get("namespace", item.get("namespace"))
    name = ident.get("name", item.get("name"))
    if not isinstance(namespace, str) or not namespace or not isinstance(name, str) or not name:
        raise InvalidInput.at(f"{path}/id", "a dataset needs a namespace and a name")
    raw = item.get("fields")
    if not raw:
        facet = (item.get("facets") or {}).get("schema")
        raw = facet.get("fields") if isinstance(facet, dict) else None
    fields = None if not raw else _fields(raw, f"{path}/fields", _marquez_field)
    origin = {"format": "marquez", "namespace": namespace, "name": name}
    if isinstance(item.get("physicalName"), str):
        origin["physicalName"] = item["physicalName"]
    return CatalogDataset(namespace, name, dataset_ref(namespace, name), fields, origin)


def _marquez_field(item: dict[str, Any], path: str) -> CatalogField:
    name, kind = item.get("name"), item.get("type")
    if not isinstance(name, str) or not name:
        raise InvalidInput.at(f"{path}/name", "a field needs a name")
    return CatalogField(name, kind if isinstance(kind, str) and kind else "unknown",
                        None, _text(item.get("description")))


# DataHub ------------------------------------------------------------------------------------

def _datahub(export: Any) -> list[CatalogDataset]:
    if isinstance(export, dict) and ("proposedSnapshot" in export or "entityUrn" in export):
        export = [export]  # one MCE or MCP on its own
    if not isinstance(export, list):
        raise InvalidInput.at("/export", "a JSON list of DataHub MCEs and MCPs")
    found: dict[str, CatalogDataset] = {}
    for index, item in enumerate(export):
        path = f"/export/{index}"
        if not isinstance(item, dict):
            raise InvalidInput.at(path, "a DataHub MCE or MCP (an object)")
        for urn, schema in _datahub_items(item, path):
            if urn in found and schema is None:
                continue  # a later aspect without a schema keeps the schema seen
            found[urn] = _datahub_dataset(urn, schema, path)
    return list(found.values())


def _datahub_items(item: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    """(urn, schema aspect or None) for each dataset one MCE or MCP talks about."""
    snapshot = (item.get("proposedSnapshot") or {}).get(_SNAPSHOT)
    if isinstance(snapshot, dict):
        urn = snapshot.get("urn")
        schema = None
        for aspect in snapshot.get("aspects") or []:
            if isinstance(aspect, dict) and _SCHEMA_ASPECT in aspect:
                schema = aspect[_SCHEMA_ASPECT]
        return [(_urn(urn, f"{path}/proposedSnapshot"), schema)]
    if item.get("entityType") == "dataset" and "entityUrn" in item:
        urn = _urn(item["entityUrn"], f"{path}/entityUrn")
        if item.get("aspectName") != "schemaMetadata":
            return [(urn, None)]
        return [(urn, _mcp_aspect(item.get("aspect"), f"{path}/aspect"))]
    return []  # another entity (a chart, a job) or another snapshot: not a dataset


def _mcp_aspect(aspect: Any, path: str) -> Any:
    if isinstance(aspect, dict) and isinstance(aspect.get("json"), dict):
        return aspect["json"]
    if isinstance(aspect, dict) and isinstance(aspect.get("value"), str):
        try:
            return json.loads(aspect["value"])
        except ValueError:
            raise InvalidInput.at(f"{path}/value", "not JSON text") from None
    if isinstance(aspect, dict) and "fields" in aspect:
        return aspect  # some writers inline the aspect itself
    raise InvalidInput.at(path, "a schemaMetadata aspect ({'json': {...}} or {'value': '...'})")


def _urn(urn: Any, path: str) -> str:
    if (not isinstance(urn, str) or not urn.startswith(_URN_PREFIX) or not urn.endswith(")")
            or urn.count(",") < 2):
        raise InvalidInput.at(path, "a dataset URN: urn:li:dataset:(urn:li:dataPlatform:"
                                    "PLATFORM,NAME,ENV)")
    return urn


def _datahub_dataset(urn: str, schema: Any, path: str) -> CatalogDataset:
    body = urn[len(_URN_PREFIX):-1]
    platform_urn, rest = body.split(",", 1)
    name, env = rest.rsplit(",", 1)
    platform = platform_urn.removeprefix(_PLATFORM_PREFIX)
    if not platform or not name:
        raise InvalidInput.at(path, f"{urn}: the platform and the name must not be empty")
    fields = None
    if isinstance(schema, dict) and schema.get("fields"):
        fields = _fields(schema["fields"], f"{path}/fields", _datahub_field)
    origin = {"format": "datahub", "urn": urn, "platform": platform, "env": env}
    return CatalogDataset(platform, name, dataset_ref(platform, name), fields, origin)


def _datahub_field(item: dict[str, Any], path: str) -> CatalogField:
    name = item.get("fieldPath")
    if not isinstance(name, str) or not name:
        raise InvalidInput.at(f"{path}/fieldPath", "a field needs a fieldPath")
    kind = item.get("nativeDataType")
    if not isinstance(kind, str) or not kind:
        union = ((item.get("type") or {}).get("type") or {})
        kind = next(iter(union), "unknown").rsplit(".", 1)[-1] if isinstance(union, dict) \
            else "unknown"
    nullable = item.get("nullable")
    return CatalogField(name, kind, nullable if isinstance(nullable, bool) else None,
                        _text(item.get("description")))


# shared -------------------------------------------------------------------------------------

def _fields(raw: Any, path: str, read: Any) -> tuple[CatalogField, ...]:
    if not isinstance(raw, list):
        raise InvalidInput.at(path, "a list of fields")
    out: list[CatalogField] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInput.at(f"{path}/{index}", "a field (an object)")
        out.append(read(item, f"{path}/{index}"))
    return tuple(out)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _shown(kind: str | None, nullable: bool | None) -> str | None:
    if kind is None:
        return None
    return kind if nullable is None else f"{kind} {'NULL' if nullable else 'NOT NULL'}"


def field_changes(catalog: tuple[CatalogField, ...],
                  registry: list[dict[str, Any]]) -> list[FieldChange]:
    """How the registry's schema fields (``{"name", "type", "nullable"?}``) differ from
    the catalog's: types compare case-insensitively; nullability only when the catalog
    states it."""
    stored = {str(f.get("name")): f for f in registry}
    changes: list[FieldChange] = []
    for item in catalog:
        mine = stored.pop(item.name, None)
        if mine is None:
            changes.append(FieldChange(item.name, "added", _shown(item.type, item.nullable)))
            continue
        their_type = str(mine.get("type") or "unknown")
        nullable = mine.get("nullable", True)
        same_type = their_type.strip().lower() == item.type.strip().lower()
        if not same_type or (item.nullable is not None and item.nullable != nullable):
            changes.append(FieldChange(
                item.name, "type_changed", _shown(item.type, item.nullable),
                _shown(their_type, None if item.nullable is None else bool(nullable))))
    changes += [FieldChange(name, "removed", None, str(f.get("type") or "unknown"))
                for name, f in stored.items()]
    return changes
