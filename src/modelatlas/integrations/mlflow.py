"""MLflow's model registry and tracking data, read over MLflow's REST API and mapped onto
ModelAtlas assets (no database here: :mod:`modelatlas.registry._mlflow_import` writes them).

ModelAtlas does not depend on the ``mlflow`` package (it is large and pins what we use):
:class:`MlflowReader` speaks the tracking server's REST API with httpx — registered models
(``/api/2.0/mlflow/registered-models/search``, with their aliases), their versions
(``/model-versions/search``), the runs behind them (``/runs/get``: parameters, metrics,
``inputs.dataset_inputs``), MLflow 3 logged models (``/logged-models/{id}``) and a model's
``requirements.txt`` through the server's artifact proxy
(``/api/2.0/mlflow-artifacts/artifacts/...``, ``mlflow server --serve-artifacts``). Lists
are read page by page (``page_token``). Only http(s) tracking URIs are read: a ``sqlite:``
or file store is MLflow's own database, which we do not open; serve it first.

The mapping (docs/integrations.md, "MLflow import"): a registered model becomes
``model:<ns>/<name>`` (:func:`asset_name` keeps the ref grammar; the MLflow name is kept in
``custom.mlflow.name``); version ``n`` becomes ``model_version:<ns>/<name>@n`` (same number);
the run behind it ``run:<ns>/<run name>-<first 8 of the run id>``; each logged dataset
input ``dataset:<ns>/<dataset name>@<MLflow digest>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from packaging.requirements import InvalidRequirement, Requirement

from modelatlas.errors import FieldError, InvalidInput, Unavailable

__all__ = [
    "STAGES",
    "MlflowDataset",
    "MlflowModel",
    "MlflowReader",
    "MlflowRun",
    "MlflowUnavailable",
    "MlflowVersion",
    "asset_name",
    "check_tracking_uri",
    "parse_requirements",
    "run_name",
]

# MLflow's stages (MLflow 2; deprecated but still answered by MLflow 3) -> ModelAtlas's
STAGES = {"None": "registered", "Staging": "staging", "Production": "production",
          "Archived": "archived"}
_RUN_STATUS = {"FINISHED": "completed", "FAILED": "failed", "KILLED": "aborted",
               "RUNNING": "running", "SCHEDULED": "scheduled"}
_NOT_NAME = re.compile(r"[^\w.-]+")
_PAGE = 200
_SERVE = "run `mlflow server --backend-store-uri <that URI> --serve-artifacts` and pass its URL"


class MlflowUnavailable(Unavailable):
    code = "mlflow_unavailable"
    title = "MLflow unavailable"
    remedy = "Check that the MLflow tracking server answers at --tracking-uri, then retry."


def check_tracking_uri(uri: str) -> str:
    """The tracking server's base URL (no trailing slash); a database or file store is
    refused with how to serve it."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return uri.rstrip("/")
    raise InvalidInput(
        f"{uri!r} is not an MLflow tracking server URL: ModelAtlas reads MLflow over its "
        f"REST API; {_SERVE}",
        errors=[FieldError("/tracking_uri", "an http(s) URL of `mlflow server`")])


def asset_name(name: str) -> str:
    """An MLflow name in the ref grammar: runs of other characters (spaces, slashes)
    become one ``-``."""
    cleaned = _NOT_NAME.sub("-", name).strip("-.")
    return cleaned[:200] or "unnamed"


def run_name(run_id: str, name: str | None) -> str:
    """Run names repeat in MLflow, so the id's first 8 characters make the ref unique."""
    return f"{asset_name(name)}-{run_id[:8]}" if name else run_id


def parse_requirements(text: str) -> tuple[list[str], list[str]]:
    """``requirements.txt`` -> (PEP 508 lines, skipped lines): options (``-r``,
    ``--index-url``), paths and URLs to files are not package requirements we can check."""
    packages, skipped = [], []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            Requirement(line)
        except InvalidRequirement:
            skipped.append(line)
        else:
            packages.append(line)
    return packages, skipped


def _millis(value: Any) -> datetime | None:
    return None if value in (None, "", 0) else datetime.fromtimestamp(int(value) / 1000, UTC)


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or []}


@dataclass(frozen=True)
class MlflowDataset:
    name: str
    digest: str
    source_type: str | None
    source: str | None  # the source's URI, when MLflow recorded one
    context: str | None  # training, evaluation, ...

    @classmethod
    def of(cls, item: dict[str, Any]) -> MlflowDataset:
        data = item.get("dataset") or {}
        source = data.get("source")
        uri = None
        if isinstance(source, str) and source.startswith("{"):
            try:
                parsed = json.loads(source)
            except ValueError:
                parsed = {}
            uri = parsed.get("uri") or parsed.get("url") if isinstance(parsed, dict) else None
        return cls(name=str(data.get("name") or "dataset"), digest=str(data.get("digest")),
                   source_type=data.get("source_type"), source=uri,
                   context=_tags(item.get("tags")).get("mlflow.data.context"))


@dataclass(frozen=True)
class MlflowRun:
    run_id: str
    name: str | None
    experiment_id: str | None
    user: str | None
    status: str  # ModelAtlas's run status
    started_at: datetime | None
    ended_at: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]  # the latest value of each metric
    tags: dict[str, str]
    datasets: list[MlflowDataset]

    @classmethod
    def of(cls, run: dict[str, Any]) -> MlflowRun:
        info, data = run.get("info") or {}, run.get("data") or {}
        latest: dict[str, tuple[int, int, float]] = {}
        for m in data.get("metrics") or []:
            key = (int(m.get("step") or 0), int(m.get("timestamp") or 0), float(m["value"]))
            if m["key"] not in latest or key[:2] >= latest[m["key"]][:2]:
                latest[m["key"]] = key
        inputs = (run.get("inputs") or {}).get("dataset_inputs") or []
        return cls(
            run_id=str(info.get("run_id") or info.get("run_uuid")),
            name=info.get("run_name") or None, experiment_id=info.get("experiment_id"),
            user=info.get("user_id") or None,
            status=_RUN_STATUS.get(str(info.get("status")), "completed"),
            started_at=_millis(info.get("start_time")), ended_at=_millis(info.get("end_time")),
            params={str(p["key"]): str(p.get("value", "")) for p in data.get("params") or []},
            metrics={k: v[2] for k, v in latest.items()},
            tags=_tags(data.get("tags")), datasets=[MlflowDataset.of(d) for d in inputs])


@dataclass(frozen=True)
class MlflowVersion:
    number: int
    stage: str  # ModelAtlas's stage
    description: str
    tags: dict[str, str]
    source: str | None
    run_id: str | None
    status: str | None
    created_at: datetime | None
    run: MlflowRun | None = None
    requirements: list[str] | None = None  # None: no requirements.txt could be read


@dataclass(frozen=True)
class MlflowModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[MlflowVersion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class MlflowReader:
    """Reads one MLflow tracking server. Each call is one or more GETs; runs are cached
    (several versions may share one)."""

    def __init__(self, tracking_uri: str, *, timeout: float = 30.0,
                 http: httpx.Client | None = None) -> None:
        self.base = check_tracking_uri(tracking_uri)
        self._http = http or httpx.Client(timeout=timeout)
        self._runs: dict[str, MlflowRun | None] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MlflowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, Any] | None = None, *,
             missing_ok: bool = False) -> httpx.Response | None:
        url = f"{self.base}{path}"
        try:
            answer = self._http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise MlflowUnavailable(f"cannot reach MLflow at {self.base}: {exc}",
                                    errors=[FieldError("/tracking_uri", "no answer")]) from None
        if answer.status_code == 404 and missing_ok:
            return None
        if answer.status_code >= 400:
            raise MlflowUnavailable(
                f"MLflow answered {answer.status_code} to GET {path}: {answer.text[:300]}",
                errors=[FieldError("/tracking_uri", "an MLflow tracking server")])
        return answer

    def _json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self._get(path, params)
        assert answer is not None
        try:
            body = answer.json()
        except ValueError:
            raise MlflowUnavailable(f"MLflow's answer to GET {path} is not JSON: is "
                                    f"{self.base} an MLflow tracking server?") from None
        return body if isinstance(body, dict) else {}

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._json(path, {**params, "max_results": _PAGE,
                                     **({"page_token": token} if token else {})})
            yield from page.get(key) or []
            token = page.get("next_page_token")
            if not token:
                return

    def model_names(self) -> list[str]:
        return [m["name"] for m in self._pages("/api/2.0/mlflow/registered-models/search",
                                               "registered_models", {})]

    def model(self, name: str) -> MlflowModel:
        """A registered model with its versions, their runs and requirements."""
        body = self._json("/api/2.0/mlflow/registered-models/get", {"name": name})
        raw = body.get("registered_model") or {}
        notes: list[str] = []
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        versions = [self._version(v, notes) for v in self._pages(
            "/api/2.0/mlflow/model-versions/search", "model_versions",
            {"filter": f"name='{quoted}'"})]
        versions.sort(key=lambda v: v.number)
        return MlflowModel(
            name=name, description=str(raw.get("description") or ""),
            tags=_tags(raw.get("tags")),
            aliases={str(a["alias"]): int(a["version"]) for a in raw.get("aliases") or []},
            versions=versions, notes=notes)

    def _version(self, raw: dict[str, Any], notes: list[str]) -> MlflowVersion:
        run_id = raw.get("run_id") or None
        run = self.run(run_id) if run_id else None
        source = raw.get("source") or None
        label = f"{raw.get('name')} version {raw.get('version')}"
        return MlflowVersion(
            number=int(raw["version"]), stage=STAGES.get(str(raw.get("current_stage")),
                                                         "registered"),
            description=str(raw.get("description") or ""), tags=_tags(raw.get("tags")),
            source=source, run_id=run_id, status=raw.get("status"),
            created_at=_millis(raw.get("creation_timestamp")), run=run,
            requirements=self._requirements(source, run_id, label, notes))

    def run(self, run_id: str) -> MlflowRun | None:
        if run_id not in self._runs:
            answer = self._get("/api/2.0/mlflow/runs/get", {"run_id": run_id}, missing_ok=True)
            self._runs[run_id] = None if answer is None else MlflowRun.of(answer.json()["run"])
        return self._runs[run_id]

    def _artifact_uri(self, source: str | None, run_id: str | None) -> str | None:
        """Where a version's model files are: MLflow 3 names a logged model
        (``models:/m-<id>``), MLflow 2 a run's artifact path (``runs:/<id>/<path>``)."""
        if source is None:
            return None
        if source.startswith("models:/m-"):
            answer = self._get(f"/api/2.0/mlflow/logged-models/{source[len('models:/'):]}",
                               missing_ok=True)
            info = {} if answer is None else (answer.json().get("model") or {}).get("info", {})
            return info.get("artifact_uri")
        if source.startswith("runs:/"):
            rid, _, path = source[len("runs:/"):].partition("/")
            answer = self._get("/api/2.0/mlflow/runs/get", {"run_id": rid}, missing_ok=True)
            root = None if answer is None else answer.json()["run"]["info"]["artifact_uri"]
            return None if root is None else f"{root.rstrip('/')}/{path}"
        return source

    def _requirements(self, source: str | None, run_id: str | None, label: str,
                      notes: list[str]) -> list[str] | None:
        uri = self._artifact_uri(source, run_id)
        if uri is None:
            return None
        if not uri.startswith("mlflow-artifacts:"):
            notes.append(f"{label}: requirements not read: its files are at {uri}, which the "
                         "tracking server does not serve (start it with --serve-artifacts)")
            return None
        path = uri[len("mlflow-artifacts:"):].lstrip("/")
        answer = self._get(f"/api/2.0/mlflow-artifacts/artifacts/{path}/requirements.txt",
                           missing_ok=True)
        if answer is None:
            return None
        packages, skipped = parse_requirements(answer.text)
        if skipped:
            notes.append(f"{label}: requirements.txt lines skipped (not PEP 508): "
                         + ", ".join(skipped))
        return packages
