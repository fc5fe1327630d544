"""``register``: record a model version from flags or a manifest file, in one call."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import typer
import yaml

from modelatlas import jsonsafe
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
    scalar,
    split_pairs,
)
from modelatlas.client import requirements_from_file
from modelatlas.client._attestations import ArtifactsAPI
from modelatlas.errors import FieldError, InvalidInput, MalformedBody

CHUNK = 1024 * 1024


def _plain(value: Any, path: str = "") -> Any:
    """YAML's extra types brought back to JSON's: dates become ISO 8601 strings, keys must
    be strings, and NaN or infinity is refused (as the strict JSON reader does)."""
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            if not isinstance(key, str):
                raise MalformedBody(f"key {key!r} at {path or '/'} is not a string",
                                    errors=[FieldError(path or "/", "keys must be strings")])
            out[key] = _plain(child, f"{path}/{key}")
        return out
    if isinstance(value, list):
        return [_plain(child, f"{path}/{i}") for i, child in enumerate(value)]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedBody(f"{value} at {path or '/'} is not a finite number",
                            errors=[FieldError(path or "/", "NaN and infinity are not allowed")])
    return value


def load_manifest(path: Path) -> dict[str, Any]:
    """A registration manifest: JSON (strictly parsed) or YAML, holding a mapping."""
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        document = jsonsafe.loads(data)
    else:
        try:
            document = _plain(yaml.safe_load(data))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise MalformedBody(f"{path} is not valid YAML{where}: "
                                f"{getattr(exc, 'problem', None) or exc}") from None
        jsonsafe.check_tree(document)
    if not isinstance(document, dict):
        raise MalformedBody(f"{path} must hold a mapping of registration fields",
                            errors=[FieldError("/", "not a mapping")])
    return document


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Flags on top of a manifest: mappings merge, lists extend, other values replace."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = [*old, *(v for v in value if v not in old)]
        else:
            out[key] = value
    return out


def local_artifact(uri: str) -> Path:
    """The local file a path or a file:// URI names (else a clear error)."""
    parsed = urlparse(uri)
    local = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)
    if parsed.scheme not in ("", "file") or not local.is_file():
        raise InvalidInput.at(
            "/metadata/artifacts",
            f"{uri} is not a local file; for remote artifacts give uri, sha256 and size "
            "in a --manifest",
        )
    return local


def describe_artifact(uri: str) -> dict[str, Any]:
    """Describe a local file (a path or a file:// URI) with its SHA-256 and size."""
    local = local_artifact(uri)
    digest = hashlib.sha256()
    with local.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {"uri": local.resolve().as_uri(), "sha256": digest.hexdigest(),
            "size": local.stat().st_size, "name": local.name}


def _number(text: str, option: str, kind: type[float] | type[int]) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint=option) from None
    if not math.isfinite(value):
        raise typer.BadParameter(f"{text!r} is not a finite number", param_hint=option)
    return value


def from_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """The registration fields the command-line flags set (nothing for flags not given)."""
    metadata: dict[str, Any] = {}
    if flags["framework"]:
        metadata["framework"] = flags["framework"]
    if flags["metric"]:
        metadata["metrics"] = {k: _number(v, "--metric", float)
                               for k, v in split_pairs(flags["metric"], "--metric")}
    if flags["artifact"]:
        metadata["artifacts"] = [describe_artifact(uri) for uri in flags["artifact"]]
    run: dict[str, Any] = {}
    if flags["param"]:
        run["parameters"] = {k: scalar(v) for k, v in split_pairs(flags["param"], "--param")}
    if flags["seed"]:
        run["seeds"] = {k: _number(v, "--seed", int)
                        for k, v in split_pairs(flags["seed"], "--seed")}
    fields: dict[str, Any] = {
        "description": flags["description"], "state": flags["state"],
        "code": flags["code"], "environment": flags["environment"],
        "tags": flags["tag"], "datasets": flags["dataset"], "features": flags["feature"],
        "derived_from": flags["derived_from"],
        "metadata": metadata, "run": {"metadata": run} if run else None,
    }
    return {k: v for k, v in fields.items() if v not in (None, [], {})}


def _model_name(argument: str | None, manifest: dict[str, Any]) -> tuple[str, str]:
    named = manifest.pop("model", None)
    if isinstance(named, dict):  # a manifest may describe the model to create instead
        manifest["model"] = named
        named = None
    if argument and named and argument != named:
        raise InvalidInput.at("/model", f"the manifest names {named} but the command {argument}")
    text = argument or named
    if not isinstance(text, str) or text.count("/") != 1:
        raise InvalidInput.at("/model", "name the model as NAMESPACE/NAME (argument or "
                                        "'model:' in the manifest)")
    namespace, name = text.split("/")
    return namespace, name


@app.command()
@handles_errors
def register(
    model: str | None = typer.Argument(None, help="NAMESPACE/NAME of the model.",
                                       show_default=False),
    manifest: Path | None = typer.Option(None, "--manifest", "-f", exists=True, dir_okay=False,
                                         help="YAML or JSON file with the registration."),
    description: str | None = typer.Option(None, "--description", "-d"),
    tag: list[str] = typer.Option([], "--tag", help="Tag (repeatable)."),
    framework: str | None = typer.Option(None, "--framework", help="xgboost, pytorch ..."),
    metric: list[str] = typer.Option([], "--metric", "-m", help="NAME=NUMBER (repeatable)."),
    dataset: list[str] = typer.Option([], "--dataset", help="Dataset ref used (repeatable)."),
    feature: list[str] = typer.Option([], "--feature", help="Feature ref used (repeatable)."),
    code: str | None = typer.Option(None, "--code", help="Code ref."),
    environment: str | None = typer.Option(None, "--environment", help="Environment ref."),
    param: list[str] = typer.Option([], "--param", help="Run parameter KEY=VALUE."),
    seed: list[str] = typer.Option([], "--seed", help="Random seed NAME=INT, e.g. numpy=42."),
    artifact: list[str] = typer.Option([], "--artifact", help="Local file: SHA-256 computed."),
    state: str | None = typer.Option(None, "--state", help="registered, staging, production"),
    derived_from: list[str] = typer.Option([], "--derived-from",
                                           help="Parent model_version ref (fine-tuning)."),
    requirements: Path | None = typer.Option(
        None, "--requirements", exists=True,
        help="requirements.txt, pyproject.toml, environment.yml, python_env.yaml or an MLflow "
        "model directory: what the version needs to run (read here, file:line kept)."),
    json_out: bool = typer.Option(False, "--json", help="Print the whole registration."),
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Register the next version of a model with its data, features, code, metrics and
    requirements."""
    base = load_manifest(manifest) if manifest else {}
    namespace, name = _model_name(model, base)
    flags = {"description": description, "tag": tag, "framework": framework,
             "metric": metric, "dataset": dataset, "feature": feature, "code": code,
             "environment": environment, "param": param, "seed": seed, "artifact": artifact,
             "state": state, "derived_from": derived_from}
    fields = merge(base, from_flags(flags))
    if len(artifact) == 1 and "manifest" not in fields:
        # one local artifact: its manifest binds the version's digest, which approvals and
        # the registry's signed provenance refer to (several files: give a --manifest)
        fields["manifest"] = ArtifactsAPI.manifest(local_artifact(artifact[0]))
    if requirements is not None:
        fields["requirements"] = requirements_from_file(requirements).model_dump(
            mode="json", exclude_none=True)
    with open_client(home, url) as client:
        result = client.models.register_version(namespace, name, fields)
    if json_out:
        print_json(result)
    else:
        typer.echo(result.model_version.ref)
