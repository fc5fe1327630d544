"""W3C PROV out: a subgraph of the registry as a PROV document (PROV-JSON or PROV-O Turtle).

The mapping (docs/provenance.md has the table):

* **entities**: model, model_version, dataset, feature, schema: things that are made.
* **activities**: run, evaluation, deployment: things that happen, use entities and are
  carried out by agents (they are the sources of ``used`` and ``associated_with``).
* **software agents**: code and environment: what an activity ran *with*
  (``associated_with`` in :mod:`modelatlas.relations`). A run that ``used`` code or an
  environment (as registration records it) states ``wasAssociatedWith`` for the same reason.
* **principals**: the ``created_by`` of each asset is a ``prov:Agent``; entities are
  ``wasAttributedTo`` it, activities ``wasAssociatedWith`` it, software agents
  ``actedOnBehalfOf`` it.

Each stored edge becomes the PROV statement :data:`modelatlas.relations.RELATIONS` names,
turned around when ``prov_inverse`` says so. Where PROV's typing does not allow that
statement between the two ends (a run ``produced`` an evaluation, which is an activity;
an environment ``derived_from`` another, which are agents), the edge becomes the nearest
statement that does: ``wasInformedBy`` between two activities, else ``wasInfluencedBy``.
Every statement carries ``ma:relation`` naming the stored relation, so nothing is lost
and the registry edge can be read back. (It also keeps prov's RDF reader exact: it pairs
a plain ``prov:wasAssociatedWith`` triple with the wrong qualified node when a subject has
several, and a statement with an attribute always gets its own qualified node.)

Asset fields and top-level metadata become ``ma:`` attributes: text as text, anything
else as its canonical JSON text, so every value reads back exactly from either format.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from prov.model import PROV, ProvDocument, QualifiedName

from modelatlas.errors import InvalidInput
from modelatlas.relations import RELATIONS

__all__ = [
    "ASSET_NS",
    "FORMATS",
    "MA_NS",
    "MEDIA_TYPES",
    "PRINCIPAL_NS",
    "ProvFormat",
    "asset_refs",
    "build_document",
    "check_format",
    "prov_class",
    "read_prov",
    "statement_of",
    "write_prov",
]

ProvFormat = Literal["json", "turtle"]
FORMATS: tuple[str, ...] = ("json", "turtle")
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "turtle": "text/turtle"}

MA_NS = "https://modelatlas.dev/ns/prov#"
ASSET_NS = "urn:modelatlas:asset:"
PRINCIPAL_NS = "urn:modelatlas:principal:"

ProvClass = Literal["entity", "activity", "agent"]
_CLASSES: dict[str, ProvClass] = {
    "model": "entity", "model_version": "entity", "dataset": "entity",
    "feature": "entity", "schema": "entity",
    "run": "activity", "evaluation": "activity", "deployment": "activity",
    "code": "agent", "environment": "agent",
}

# Which (first, second) classes each PROV statement admits, in its own argument order.
_ADMITS: dict[str, tuple[ProvClass, ProvClass]] = {
    "prov:used": ("activity", "entity"),
    "prov:wasGeneratedBy": ("entity", "activity"),
    "prov:wasDerivedFrom": ("entity", "entity"),
    "prov:specializationOf": ("entity", "entity"),
    "prov:wasAssociatedWith": ("activity", "agent"),
    "prov:wasAttributedTo": ("entity", "agent"),
    "prov:wasInformedBy": ("activity", "activity"),
}


class AssetLike(Protocol):
    """What the mapping reads of an asset (:class:`modelatlas.registry.Asset` fits)."""

    @property
    def ref(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def digests(self) -> dict[str, str]: ...
    @property
    def created_at(self) -> str: ...
    @property
    def created_by(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RedactedAsset:
    """An asset the caller may not read, as the document shows it: its place and kind,
    nothing that names it (``ref`` is the walk's opaque ``redacted:<n>``)."""

    ref: str
    kind: str
    namespace: str = "redacted"
    name: str = "redacted"
    version: str | None = None
    state: str = "redacted"
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    created_by: str = ""


class EdgeLike(Protocol):
    """A stored edge, ``source --relation--> target`` (LineageEdge and Relation fit)."""

    @property
    def source(self) -> str: ...
    @property
    def relation(self) -> str: ...
    @property
    def target(self) -> str: ...


def prov_class(kind: str) -> ProvClass:
    """The PROV class of an asset kind."""
    return _CLASSES[kind]


def check_format(value: str, *, path: str = "/format") -> ProvFormat:
    if value == "json":
        return "json"
    if value == "turtle":
        return "turtle"
    raise InvalidInput.at(path, f"one of {', '.join(FORMATS)}, not {value!r}")


def build_document(assets: Iterable[AssetLike], edges: Iterable[EdgeLike]) -> ProvDocument:
    """The PROV document of ``assets`` and the ``edges`` between them (an edge with an end
    outside ``assets`` is left out: a subgraph has a border)."""
    doc = ProvDocument()
    doc.add_namespace("ma", MA_NS)
    doc.add_namespace("asset", ASSET_NS)
    doc.add_namespace("principal", PRINCIPAL_NS)
    classes: dict[str, ProvClass] = {}
    principals: set[str] = set()
    for asset in sorted(assets, key=lambda a: a.ref):
        classes[asset.ref] = prov_class(asset.kind)
        _add_asset(doc, asset)
        _add_principal(doc, asset, principals)
    for edge in sorted(edges, key=lambda e: (e.source, e.relation, e.target)):
        if edge.source in classes and edge.target in classes:
            _add_edge(doc, edge, classes)
    return doc


def _asset_id(ref: str) -> str:
    return f"asset:{ref}"


def _principal_id(actor: str) -> str:
    return f"principal:{quote(actor, safe='')}"


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _attributes(asset: AssetLike) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "prov:label": asset.ref,
        "ma:kind": asset.kind,
        "ma:namespace": asset.namespace,
        "ma:name": asset.name,
        "ma:state": asset.state,
    }
    if asset.version is not None:
        attrs["ma:version"] = asset.version
    if asset.description:
        attrs["ma:description"] = asset.description
    created = _when(asset.created_at)
    if created is not None:
        attrs["ma:createdAt"] = created
    for algorithm, digest in sorted(asset.digests.items()):
        attrs[f"ma:digest_{algorithm}"] = digest
    for key, value in sorted(asset.metadata.items()):
        if key.isidentifier():  # metadata keys are schema fields; this keeps QNames valid
            attrs[f"ma:{key}"] = _text(value)
    return attrs


def _text(value: Any) -> str:
    """A metadata value as text: strings as they are, anything else as canonical JSON (a
    typed number would come back from RDF as another type; text always comes back)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _add_asset(doc: ProvDocument, asset: AssetLike) -> None:
    identifier = _asset_id(asset.ref)
    attrs = _attributes(asset)
    cls = prov_class(asset.kind)
    if cls == "entity":
        doc.entity(identifier, attrs)
    elif cls == "agent":
        attrs["prov:type"] = PROV["SoftwareAgent"]
        doc.agent(identifier, attrs)
    else:
        # started_at/ended_at when the activity recorded them (runs do); else the time it
        # was registered, the best the registry knows of when it happened
        start = _when(asset.metadata.get("started_at")) or _when(asset.created_at)
        end = _when(asset.metadata.get("ended_at"))
        doc.activity(identifier, start, end, attrs)


def _add_principal(doc: ProvDocument, asset: AssetLike, seen: set[str]) -> None:
    if not asset.created_by:
        return
    agent = _principal_id(asset.created_by)
    if asset.created_by not in seen:
        seen.add(asset.created_by)
        doc.agent(agent, {"prov:label": asset.created_by, "ma:kind": "principal"})
    subject = _asset_id(asset.ref)
    attrs = {"ma:relation": "created_by"}
    cls = prov_class(asset.kind)
    if cls == "entity":
        doc.wasAttributedTo(subject, agent, other_attributes=attrs)
    elif cls == "activity":
        doc.wasAssociatedWith(subject, agent, other_attributes=attrs)
    else:
        doc.actedOnBehalfOf(subject, agent, other_attributes=attrs)


def statement_of(relation: str, source: ProvClass, target: ProvClass) -> tuple[str, bool]:
    """The PROV statement an edge becomes and whether it names the target first."""
    rel = RELATIONS[relation]
    term, inverse = rel.prov_term, rel.prov_inverse
    first, second = (target, source) if inverse else (source, target)
    if term == "prov:used" and second == "agent":
        term = "prov:wasAssociatedWith"  # code/environment an activity used ran it
    if _ADMITS.get(term) == (first, second):
        return term, inverse
    if (first, second) == ("activity", "activity"):
        return "prov:wasInformedBy", inverse
    return "prov:wasInfluencedBy", inverse


def _add_edge(doc: ProvDocument, edge: EdgeLike, classes: Mapping[str, ProvClass]) -> None:
    term, inverse = statement_of(edge.relation, classes[edge.source], classes[edge.target])
    first, second = (edge.target, edge.source) if inverse else (edge.source, edge.target)
    a, b = _asset_id(first), _asset_id(second)
    attrs = {"ma:relation": edge.relation}
    if term == "prov:used":
        doc.used(a, b, other_attributes=attrs)
    elif term == "prov:wasGeneratedBy":
        doc.wasGeneratedBy(a, b, other_attributes=attrs)
    elif term == "prov:wasDerivedFrom":
        doc.wasDerivedFrom(a, b, other_attributes=attrs)
    elif term == "prov:specializationOf":
        doc.specializationOf(a, b)  # PROV gives specialization no attributes
    elif term == "prov:wasAssociatedWith":
        doc.wasAssociatedWith(a, b, other_attributes=attrs)
    elif term == "prov:wasAttributedTo":
        doc.wasAttributedTo(a, b, other_attributes=attrs)
    elif term == "prov:wasInformedBy":
        doc.wasInformedBy(a, b, other_attributes=attrs)
    else:
        doc.wasInfluencedBy(a, b, other_attributes=attrs)


# serialization --------------------------------------------------------------------------

_RDFLIB = threading.Lock()


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib (>= 7.3) warns about its *own* use of ``Dataset.default_context`` inside
    prov's RDF reader and writer; nothing of ours is deprecated. The lock keeps two
    threads of a server from restoring each other's warning filters."""
    with _RDFLIB, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Dataset\.default_context is deprecated",
            category=DeprecationWarning,
        )
        yield


def write_prov(doc: ProvDocument, fmt: ProvFormat) -> str:
    """``doc`` as PROV-JSON or PROV-O Turtle."""
    if fmt == "json":
        text = doc.serialize(format="json", indent=2)
    else:
        with _quiet_rdflib():
            text = doc.serialize(format="rdf", rdf_format="turtle")
    assert text is not None  # no destination: the text is returned
    return text


def read_prov(text: str | bytes, fmt: ProvFormat) -> ProvDocument:
    """Read PROV-JSON or PROV-O Turtle back with prov's own readers."""
    if fmt == "json":
        return ProvDocument.deserialize(content=text, format="json")
    with _quiet_rdflib():
        return ProvDocument.deserialize(content=text, format="rdf", rdf_format="turtle")


def asset_refs(doc: ProvDocument) -> set[str]:
    """The refs of the assets a document describes (its ``asset:`` records)."""
    refs: set[str] = set()
    for record in doc.get_records():
        identifier = record.identifier
        if isinstance(identifier, QualifiedName) and identifier.uri.startswith(ASSET_NS):
            refs.add(identifier.uri[len(ASSET_NS):])
    return refs
