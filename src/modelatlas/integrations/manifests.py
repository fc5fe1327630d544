"""Deployment manifests (KServe, Seldon) read into the models they deploy.

Understood kinds:

* KServe ``serving.kserve.io/v1beta1`` ``InferenceService``: ``spec.predictor.model``
  (``storageUri``, ``modelFormat.name``, ``runtime``), or the older per-framework form
  ``spec.predictor.<framework>.storageUri`` (``sklearn``, ``xgboost``, ``pytorch`` ...).
* Seldon Core v1 ``machinelearning.seldon.io/v1`` ``SeldonDeployment``: one deployment per
  predictor (a canary is a second predictor), serving every ``modelUri`` of its inference
  graph, children included.
* Seldon Core v2 ``mlops.seldon.io/v1alpha1`` ``Model``: ``spec.storageUri``.
* ``v1`` ``List``: its ``items``.

A manifest may name the digest of what it serves in the annotation ``modelatlas.io/sha256``
(64 hex digits, ``sha256:`` prefix allowed). Documents of any other kind are skipped and
reported. Pure functions: no database, no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from modelatlas.errors import InvalidInput
from modelatlas.integrations._yaml import load_all

MAX_MANIFEST_BYTES = 1024 * 1024
DIGEST_ANNOTATION = "modelatlas.io/sha256"
KSERVE = "serving.kserve.io/"
SELDON_V1 = "machinelearning.seldon.io/"
SELDON_V2 = "mlops.seldon.io/"
_HEX64 = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
_NOT_NAME = re.compile(r"[^a-z0-9_-]+")
# The predictor keys of KServe's older form that are not a framework.
_PREDICTOR_OTHER = frozenset({"model", "containers", "minReplicas", "maxReplicas",
                              "canaryTrafficPercent", "serviceAccountName", "scaleTarget",
                              "scaleMetric", "timeout", "batcher", "logger", "nodeSelector",
                              "tolerations", "affinity", "volumes", "imagePullSecrets",
                              "annotations", "labels", "containerConcurrency", "workerSpec"})


@dataclass(frozen=True)
class DeployedModel:
    """One thing a manifest deploys."""

    platform: str  # kserve | seldon | seldon-v2
    kind: str
    name: str
    namespace: str | None
    storage_uris: tuple[str, ...]
    sha256: str | None
    source: str  # where it was read: "<file>#<document>"
    model_format: str | None = None
    runtime: str | None = None
    replicas: int | None = None
    traffic_percent: float | None = None


@dataclass(frozen=True)
class Skipped:
    source: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Manifests:
    deployments: tuple[DeployedModel, ...]
    skipped: tuple[Skipped, ...]


def k8s_namespace(value: str) -> str:
    """A Kubernetes namespace as a registry namespace (a DNS label mostly is one already)."""
    cleaned = _NOT_NAME.sub("-", value.lower()).strip("-_")
    return cleaned[:63] or "default"


def normalise_uri(uri: str) -> str:
    """Compare storage URIs without a trailing slash: ``s3://b/m/`` names ``s3://b/m``."""
    return uri.strip().rstrip("/") if uri.strip() not in ("", "/") else uri.strip()


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def _percent(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    return None


def _digest(meta: dict[str, Any], source: str) -> str | None:
    value = _mapping(meta.get("annotations")).get(DIGEST_ANNOTATION)
    if value is None:
        return None
    found = _HEX64.match(str(value).strip().lower())
    if found is None:
        raise InvalidInput.at(f"/manifests/{source}/metadata/annotations",
                              f"{DIGEST_ANNOTATION} must be 64 hex digits")
    return found.group(1)


def _kserve(doc: dict[str, Any], base: dict[str, Any]) -> list[DeployedModel]:
    predictor = _mapping(_mapping(doc.get("spec")).get("predictor"))
    model = _mapping(predictor.get("model"))
    fmt, runtime = _mapping(model.get("modelFormat")).get("name"), model.get("runtime")
    uri = model.get("storageUri")
    if uri is None:  # the older form: spec.predictor.<framework>.storageUri
        for key, value in predictor.items():
            if key not in _PREDICTOR_OTHER and isinstance(value, dict) and \
                    value.get("storageUri"):
                fmt, uri = key, value["storageUri"]
                break
    uris = (normalise_uri(str(uri)),) if uri else ()
    return [DeployedModel(
        platform="kserve", storage_uris=uris, replicas=_int(predictor.get("minReplicas")),
        traffic_percent=_percent(predictor.get("canaryTrafficPercent")),
        model_format=str(fmt) if fmt else None, runtime=str(runtime) if runtime else None,
        **base)]


def _graph_uris(node: Any, depth: int = 0) -> list[str]:
    if not isinstance(node, dict) or depth > 32:  # a graph is shallow; stop a loop anyway
        return []
    found = [normalise_uri(str(node["modelUri"]))] if node.get("modelUri") else []
    for child in node.get("children") or []:
        found += _graph_uris(child, depth + 1)
    return found


def _seldon_v1(doc: dict[str, Any], base: dict[str, Any]) -> list[DeployedModel]:
    predictors = [p for p in _mapping(doc.get("spec")).get("predictors") or []
                  if isinstance(p, dict)]
    out = []
    for index, predictor in enumerate(predictors):
        label = str(predictor.get("name") or index)
        name = base["name"] if len(predictors) == 1 else f"{base['name']}-{label}"
        graph = predictor.get("graph")
        out.append(DeployedModel(
            platform="seldon", storage_uris=tuple(dict.fromkeys(_graph_uris(graph))),
            replicas=_int(predictor.get("replicas")),
            traffic_percent=_percent(predictor.get("traffic")),
            model_format=str(_mapping(graph).get("implementation") or "") or None,
            **{**base, "name": name}))
    return out


def _seldon_v2(doc: dict[str, Any], base: dict[str, Any]) -> list[DeployedModel]:
    spec = _mapping(doc.get("spec"))
    uri = spec.get("storageUri")
    requirements = spec.get("requirements") or []
    fmt = str(requirements[0]) if isinstance(requirements, list) and requirements else None
    return [DeployedModel(platform="seldon-v2", storage_uris=(normalise_uri(str(uri)),)
                          if uri else (), replicas=_int(spec.get("replicas")),
                          model_format=fmt, **base)]


_READERS = {
    (KSERVE, "InferenceService"): _kserve,
    (SELDON_V1, "SeldonDeployment"): _seldon_v1,
    (SELDON_V2, "Model"): _seldon_v2,
}


def _read_document(doc: Any, source: str, out: list[DeployedModel],
                   skipped: list[Skipped]) -> None:
    if not isinstance(doc, dict):
        raise InvalidInput.at(f"/manifests/{source}",
                              f"document {source} is not a mapping (apiVersion, kind, ...)")
    api, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
    if kind == "List" and isinstance(doc.get("items"), list):
        for i, item in enumerate(doc["items"]):
            _read_document(item, f"{source}/items/{i}", out, skipped)
        return
    reader = next((r for (group, k), r in _READERS.items()
                   if api.startswith(group) and kind == k), None)
    if reader is None:
        skipped.append(Skipped(source, f"{api} {kind}".strip() or "(no kind)",
                               "not a KServe or Seldon model"))
        return
    meta = _mapping(doc.get("metadata"))
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput.at(f"/manifests/{source}/metadata/name", f"a {kind} needs a name")
    namespace = meta.get("namespace")
    base = {"kind": kind, "name": name, "source": source, "sha256": _digest(meta, source),
            "namespace": str(namespace) if namespace else None}
    out.extend(reader(doc, base))


def parse_manifests(text: str, *, source: str) -> Manifests:
    """Every deployment in a (multi-document) YAML text; ``source`` names the file in the
    report and in errors (``<source>#<document number>``, from 1)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
        raise InvalidInput.at(f"/manifests/{source}", f"at most {MAX_MANIFEST_BYTES} bytes")
    found: list[DeployedModel] = []
    skipped: list[Skipped] = []
    documents = load_all(text, path=f"/manifests/{source}", what=f"manifest {source}")
    for number, doc in enumerate(documents, start=1):
        _read_document(doc, f"{source}#{number}", found, skipped)
    return Manifests(tuple(found), tuple(skipped))
