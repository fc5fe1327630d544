"""Validating OpenLineage events against the published JSON Schemas, offline.

Every schema shipped in ``spec/`` (the core ``OpenLineage.json`` of each version and the
facet schemas) is loaded into one in-memory :class:`referencing.Registry` under its ``$id``.
The registry's ``retrieve`` hook refuses any URI it does not hold, so a ``$ref`` to a schema
that is not shipped is an error, never a network fetch.

Which schema an event is checked against:

* the event's ``schemaURL`` (``https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/
  RunEvent``) names the core version; a version not shipped but of a shipped major version
  (``2-0-3``) is checked against the newest shipped one of that major (minor versions only
  add optional fields); another major, another host, or no ``schemaURL`` at all is refused;
* the event's shape picks the definition (``RunEvent``, ``DatasetEvent``, ``JobEvent``), so
  an error names the offending field rather than "not valid under any of the given schemas";
* each facet with a ``_schemaURL`` under ``https://openlineage.io/spec/facets/`` is checked
  against that facet schema (the newest shipped version of the facet when its version is not
  shipped); custom facets from other producers are checked against the base facet only.

Two validators over the same schemas: ``jsonschema_rs`` (compiled, about 30 us an event)
decides that an event is valid; only an event it finds invalid goes through ``jsonschema``
(interpreted, about 2 ms an event), which names each failing JSON path with its best-match
message and has the last word. Both resolve ``$ref`` from the shipped schemas alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from uuid import UUID

import jsonschema
import jsonschema_rs
import orjson
import referencing
import referencing.exceptions
from jsonschema.exceptions import ValidationError, best_match
from referencing.jsonschema import DRAFT202012

from modelatlas.errors import FieldError, InvalidInput

SPEC_HOST = "https://openlineage.io/spec/"
_CORE_URL = re.compile(r"^https?://openlineage\.io/spec/(\d+)-(\d+)-(\d+)/OpenLineage\.json")
_FACET_URL = re.compile(
    r"^https?://openlineage\.io/spec/facets/(\d+)-(\d+)-(\d+)/(\w+)\.json(?:#(.*))?$"
)
Version = tuple[int, int, int]


class OpenLineageInvalid(InvalidInput):
    """An event that fails the OpenLineage schema; ``errors`` name the JSON paths."""

    code = "openlineage_invalid"
    title = "Event fails the OpenLineage schema"
    remedy = "Check the event against https://openlineage.io/spec/ (the path names the field)."


def _refuse_remote(uri: str) -> referencing.Resource[Any]:
    """The registry holds every schema we ship; anything else is unknown, never fetched."""
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs


@dataclass(frozen=True)
class _Shipped:
    registry: referencing.Registry[Any]
    documents: tuple[dict[str, Any], ...]
    core: dict[Version, dict[str, Any]]  # version -> core schema document
    facets: dict[str, dict[Version, str]]  # facet file stem -> version -> $id


def _version(match: re.Match[str]) -> Version:
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _documents() -> Iterator[dict[str, Any]]:
    pending = [resources.files(__package__).joinpath("spec")]
    while pending:
        for item in pending.pop().iterdir():
            if item.is_dir():
                pending.append(item)
            elif item.name.endswith(".json"):
                yield json.loads(item.read_text(encoding="utf-8"))


@cache
def shipped() -> _Shipped:
    """Every shipped schema, registered under its ``$id`` (loaded once per process)."""
    documents = tuple(_documents())
    resources_: list[tuple[str, referencing.Resource[Any]]] = []
    core: dict[Version, dict[str, Any]] = {}
    facets: dict[str, dict[Version, str]] = {}
    for document in documents:
        uri = document["$id"]
        resources_.append((uri, DRAFT202012.create_resource(document)))
        if found := _CORE_URL.match(uri):
            core[_version(found)] = document
        elif found := _FACET_URL.match(uri):
            facets.setdefault(found.group(4), {})[_version(found)] = uri
    registry: referencing.Registry[Any] = referencing.Registry(
        retrieve=_refuse_remote)  # type: ignore[call-arg]  # an attrs field mypy does not see
    return _Shipped(registry.with_resources(resources_).crawl(), documents, core, facets)


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None  # RFC 3339 date-times carry an offset


_FORMATS = jsonschema.FormatChecker(["uuid"])
_FORMATS.checks("date-time")(_is_datetime)


def shipped_versions() -> list[str]:
    return ["-".join(map(str, v)) for v in sorted(shipped().core)]


def core_version(schema_url: object, path: str = "/schemaURL") -> Version:
    """The shipped core version an event's ``schemaURL`` selects (see the module doc)."""
    versions = shipped().core
    if not isinstance(schema_url, str):
        raise OpenLineageInvalid.at(path, "required: the OpenLineage schema URL of the event")
    found = _CORE_URL.match(schema_url)
    if found is None:
        raise OpenLineageInvalid.at(
            path, f"not an OpenLineage schema URL ({SPEC_HOST}<version>/OpenLineage.json)")
    wanted = _version(found)
    if wanted in versions:
        return wanted
    same_major = [v for v in versions if v[0] == wanted[0]]
    if not same_major:
        raise OpenLineageInvalid.at(
            path, f"OpenLineage {'-'.join(map(str, wanted))} is not supported; this registry "
            f"knows {', '.join(shipped_versions())}")
    return max(same_major)


def _definition(document: dict[str, Any], event: dict[str, Any]) -> str:
    """The definition an event is checked against, chosen by its shape."""
    base = document["$id"]
    defs = "$defs" if "$defs" in document else "definitions"
    if "RunEvent" not in document[defs] or "DatasetEvent" not in document[defs]:
        return f"{base}#/{defs}/RunEvent"  # 1.x: run events only
    if "run" in event or "eventType" in event:
        return f"{base}#/{defs}/RunEvent"
    if "dataset" in event:
        return f"{base}#/{defs}/DatasetEvent"
    return f"{base}#/{defs}/JobEvent"


@cache
def _validator(ref: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": ref}, registry=shipped().registry, format_checker=_FORMATS)


def _deepest(error: ValidationError) -> ValidationError:
    """For an anyOf/oneOf failure, the most relevant error inside it (its real path)."""
    while error.context:
        error = best_match(error.context)
    return error


def _field_errors(found: list[ValidationError], prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in found:
        inner = _deepest(error)
        path = prefix + "".join(f"/{part}" for part in inner.absolute_path)
        errors.append(FieldError(path, inner.message))
    return errors


def _check(ref: str, value: Any, prefix: str, errors: list[FieldError]) -> None:
    """Add the errors of ``value`` against ``ref``, each at its JSON path."""
    try:
        found = sorted(_validator(ref).iter_errors(value), key=lambda e: list(map(str, e.path)))
    except referencing.exceptions.Unresolvable as exc:
        errors.append(FieldError(prefix or "/", f"unknown schema reference: {exc}"))
        return
    errors.extend(_field_errors(found, prefix))


def facet_schema(schema_url: object) -> str | None:
    """The shipped schema (``$id#pointer``) a facet's ``_schemaURL`` selects, if any."""
    if not isinstance(schema_url, str):
        return None
    found = _FACET_URL.match(schema_url)
    if found is None:
        return None
    versions = shipped().facets.get(found.group(4))
    if not versions:
        return None
    wanted = _version(found)
    uri = versions.get(wanted) or versions[max(versions)]
    pointer = found.group(5) or f"/$defs/{found.group(4)}"
    return f"{uri}#{pointer}"


# The facet containers of each part of an event, and the core definition of their facets.
_RUN_CONTAINERS = {"facets": "RunFacet"}
_JOB_CONTAINERS = {"facets": "JobFacet"}
_DATASET_CONTAINERS = {"facets": "DatasetFacet", "inputFacets": "InputDatasetFacet",
                       "outputFacets": "OutputDatasetFacet"}
_FACET_DEFS = ("RunFacet", "JobFacet", "DatasetFacet", "InputDatasetFacet",
               "OutputDatasetFacet")
# Stand-ins for the two values unique to every event, checked by their format directly.
_ANY_UUID = "00000000-0000-4000-8000-000000000000"
_ANY_TIME = "2000-01-01T00:00:00Z"


class _Split:
    """An event taken apart so that each part validates on its own (errors then name the
    facet, not "not valid under any of the given schemas"): the
    shell (the event without facets and datasets, runId and eventTime standing in), each
    dataset without its facets, and each facet, with their paths and core definitions."""

    def __init__(self, event: dict[str, Any], defs: str) -> None:
        self.facets: list[tuple[str, str, Any]] = []  # path, definition, facet
        self.datasets: list[tuple[str, str, Any]] = []  # path, definition, dataset
        shell = dict(event)
        if isinstance(shell.get("eventTime"), str):
            shell["eventTime"] = _ANY_TIME
        for key, containers in (("run", _RUN_CONTAINERS), ("job", _JOB_CONTAINERS),
                                ("dataset", _DATASET_CONTAINERS)):
            if isinstance(shell.get(key), dict):
                shell[key] = self._strip(shell[key], f"/{key}", containers)
        run = shell.get("run")
        if isinstance(run, dict) and isinstance(run.get("runId"), str):
            run["runId"] = _ANY_UUID
        # a run event's datasets are checked one by one; other events keep theirs
        if defs.endswith("/RunEvent"):
            for side, definition in (("inputs", "InputDataset"), ("outputs", "OutputDataset")):
                datasets = shell.get(side)
                if isinstance(datasets, list):
                    shell[side] = []
                    self.datasets += [
                        (f"/{side}/{i}", definition,
                         self._strip(d, f"/{side}/{i}", _DATASET_CONTAINERS)
                         if isinstance(d, dict) else d)
                        for i, d in enumerate(datasets)
                    ]
        for side in ("inputs", "outputs"):
            datasets = shell.get(side)
            if isinstance(datasets, list) and datasets:
                shell[side] = [self._strip(d, f"/{side}/{i}", _DATASET_CONTAINERS)
                               if isinstance(d, dict) else d for i, d in enumerate(datasets)]
        self.shell = shell

    def _strip(self, part: dict[str, Any], path: str, containers: dict[str, str]
               ) -> dict[str, Any]:
        kept = dict(part)
        for key, definition in containers.items():
            facets = kept.get(key)
            if isinstance(facets, dict):
                kept[key] = {}
                self.facets += [(f"{path}/{key}/{name}", definition, facet)
                                for name, facet in facets.items()]
        return kept


def _formats(event: dict[str, Any], prefix: str, errors: list[FieldError]) -> None:
    if not _is_datetime(event.get("eventTime")):
        errors.append(FieldError(f"{prefix}/eventTime", "is not a 'date-time'"))
    run = event.get("run")
    if isinstance(run, dict) and isinstance(run.get("runId"), str):
        if not _FORMATS.conforms(run["runId"], "uuid"):
            errors.append(FieldError(f"{prefix}/run/runId", f"{run['runId']!r} is not a 'uuid'"))


def _check_split(document: dict[str, Any], event: dict[str, Any], prefix: str
                 ) -> list[FieldError]:
    base, errors = document["$id"], list[FieldError]()
    definition = _definition(document, event)
    split = _Split(event, definition)
    _check(definition, split.shell, prefix, errors)
    _formats(event, prefix, errors)
    for path, name, dataset in split.datasets:
        _check(f"{base}#/$defs/{name}", dataset, prefix + path, errors)
    for path, definition, facet in split.facets:
        _check(f"{base}#/$defs/{definition}", facet, prefix + path, errors)
        ref = facet_schema(facet.get("_schemaURL")) if isinstance(facet, dict) else None
        if ref is not None:
            _check(ref, facet, prefix + path, errors)
    return errors


# --- the compiled validator (the fast path) ---------------------------------------------
# Core schemas 1-0-4 to 2-0-1 also list facets by a relative "$ref": "facets/X.json", which
# names https://openlineage.io/spec/<v>/facets/X.json: published nowhere (the facets live
# under spec/facets/<v>/). They sit in anyOf branches after the one every valid event
# meets; jsonschema never reaches them then, and raises when it does.
_UNPUBLISHED = re.compile(r"^https://openlineage\.io/spec/\d+-\d+-\d+/facets/\w+\.json$")


def _retrieve_nothing(uri: str) -> Any:
    """jsonschema_rs resolves every ``$ref`` when it compiles, through this hook for a URI
    the registry does not hold: never a download. An unpublished facet (above) is a branch
    nothing meets (``false``): such an event goes to jsonschema, which decides as before."""
    if _UNPUBLISHED.match(uri):
        return False
    raise LookupError(f"{uri} is not a shipped schema; schemas are never fetched")


# The canonical form, which every run id an emitter sends has: accepted without building
# a UUID (a fifth of the core schema's check); any other string takes jsonschema's test.
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                             r"-[0-9a-fA-F]{12}")


def _is_uuid(value: object) -> bool:
    """jsonschema's "uuid" check, without its FormatChecker's dispatch (5x the cost)."""
    if not isinstance(value, str):
        return True
    if _CANONICAL_UUID.fullmatch(value):
        return True
    try:
        UUID(value)
    except ValueError:
        return False
    return all(value[i] == "-" for i in (8, 13, 18, 23))


def _any_uri(_value: object) -> bool:
    return True  # "uri" is not checked (as in jsonschema's FormatChecker above)


@cache
def _compiled_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(d["$id"], d) for d in shipped().documents],
                                  retriever=_retrieve_nothing)


@cache
def _compiled(ref: str) -> jsonschema_rs.Validator | None:
    """The compiled validator of ``ref`` (None when it cannot be compiled: jsonschema then
    checks, and names the reference that does not resolve)."""
    try:
        return jsonschema_rs.validator_for(
            {"$ref": ref}, registry=_compiled_registry(), retriever=_retrieve_nothing,
            formats={"date-time": _is_datetime, "uuid": _is_uuid, "uri": _any_uri},
            validate_formats=True)
    except (ValueError, jsonschema_rs.ReferencingError):
        return None


@lru_cache(maxsize=4096)
def _facet_schema_of(schema_url: str) -> str | None:
    return facet_schema(schema_url)


_FACET_KEYS = ("facets", "inputFacets", "outputFacets")


def _facets(event: dict[str, Any]) -> list[Any]:
    """Every facet of an event (run, job, datasets and their input/output facets). A list,
    not a generator: resuming a generator per facet cost a quarter of a valid event's
    check."""
    parts = [event.get("run"), event.get("job"), event.get("dataset")]
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        if isinstance(datasets, list):
            parts += datasets
    found: list[Any] = []
    for part in parts:
        if isinstance(part, dict):
            for key in _FACET_KEYS:
                facets = part.get(key)
                if isinstance(facets, dict):
                    found += facets.values()
    return found


def _valid_fast(definition: str, event: dict[str, Any], facets: bool) -> bool:
    """True when the compiled validators find the event (and, with ``facets``, each facet
    under its own schema) valid; False sends it to jsonschema for the errors."""
    core = _compiled(definition)
    if core is None or not core.is_valid(event):
        return False
    if not facets:
        return True
    for facet in _facets(event):
        url = facet.get("_schemaURL") if isinstance(facet, dict) else None
        ref = _facet_schema_of(url) if isinstance(url, str) else None
        if ref is not None and not _facet_valid(ref, facet):
            return False
    return True


_VALID_FACETS: set[tuple[str, bytes]] = set()
_VALID_FACETS_MAX = 8192


def _facet_valid(ref: str, facet: Any) -> bool:
    """``facet`` is valid under ``ref`` (compiled). Facets repeat from event to event (a
    dataset's schema, a job's type, a DAG run's parent facet): a facet found valid is
    remembered by its bytes, and the next copy costs a serialisation instead of a
    conversion into the validator. A pure function of the bytes: the set is a cache."""
    try:
        key = (ref, orjson.dumps(facet))
    except TypeError:
        key = None
    if key is not None and key in _VALID_FACETS:
        return True
    validator = _compiled(ref)
    if validator is None or not validator.is_valid(facet):
        return False
    if key is not None:
        if len(_VALID_FACETS) >= _VALID_FACETS_MAX:
            _VALID_FACETS.clear()
        _VALID_FACETS.add(key)
    return True


def validate_event(event: Any, prefix: str = "") -> Version:
    """Check one event against its OpenLineage version and its facets' schemas; return the
    core version used. Raises :class:`OpenLineageInvalid` naming each offending path.

    The compiled validator accepts a valid event. Any other is checked by jsonschema for
    its errors: from 1-0-2 on, every facet container is ``additionalProperties:
    <Kind>Facet``, so the event is checked in parts (the shell, then each facet against its
    core definition and its own schema), which is the same check with errors at the
    facet's path. 1-0-0 and 1-0-1 name facets one by one and are checked whole. Should
    jsonschema find no error, the event is accepted: it is the reference."""
    if not isinstance(event, dict):
        raise OpenLineageInvalid.at(prefix or "/", "an OpenLineage event is a JSON object")
    version = core_version(event.get("schemaURL"), f"{prefix}/schemaURL")
    document = shipped().core[version]
    split = all(name in document.get("$defs", {}) for name in _FACET_DEFS)
    if _valid_fast(_definition(document, event), event, facets=split):
        return version
    if split:
        # a facet fails its core definition and its own schema alike: say it once
        errors = list(dict.fromkeys(_check_split(document, event, prefix)))
    else:
        errors = []
        _check(_definition(document, event), event, prefix, errors)
    if errors:
        raise OpenLineageInvalid(
            "event fails the OpenLineage schema: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors[:5]),
            errors=errors,
        )
    return version
