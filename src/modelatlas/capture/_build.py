"""Turning what a run captured into the one request that records it.

Where each fact goes (docs/capture.md has the table):

* the model version's ``metadata``: ``metrics`` (what search reads as ``metrics.<name>``)
  and ``artifacts`` (uri, sha256, size, name);
* the run's ``metadata`` (the ``run`` kind's schema): parameters, seeds, start and end
  times, status, user, metrics;
* the run's ``custom.capture``: what the ``run`` schema has no field for (command line,
  working directory, allow-listed environment variables, CI build, hardware, Python
  details, git remote/branch/dirty state, dataset digests, the error of a failed run);
* linked assets, created when missing: the ``code`` at its commit, the ``environment``
  (Python, platform, installed packages) and each dataset used;
* the model version's declared ``requirements``: every installed package pinned ``==`` and
  the Python minor version, with origin ``capture``, so ``deps check`` works on it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from datetime import datetime
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from modelatlas.capture._facts import Facts
from modelatlas.registry import (
    AssetCreate,
    DeclaredIn,
    InlineAsset,
    ModelSpec,
    OriginOut,
    RequirementsIn,
    RunSpec,
    VersionRegistration,
)

_NAME_BAD = re.compile(r"[^\w.-]+")
ORIGIN = "capture"  # the origin file of the requirements capture declares
Scalar = str | int | float | bool | None


def clean_name(text: str, fallback: str) -> str:
    cleaned = _NAME_BAD.sub("-", text).strip(".-_")
    return cleaned[:200] or fallback


def scalar_param(value: Any) -> Scalar:
    """A parameter as the run schema takes it: a JSON scalar; anything else as JSON text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def code_input(namespace: str, facts: Facts) -> InlineAsset | None:
    """The code at its commit: from git, else from the CI build's commit and repository."""
    git, ci = facts.git, facts.ci or {}
    commit = git.commit if git else ci.get("commit")
    if not commit or not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return None
    repository = git.remote if git else _ci_repository(ci)
    base = (repository or (str(git.root) if git else "code")).rstrip("/").removesuffix(".git")
    name = clean_name(base.rsplit("/", 1)[-1].rsplit(":", 1)[-1], "code")
    version = commit[:12]
    tags: list[str] = []
    if git and git.dirty:
        # Uncommitted edits are not the commit: a separate asset per distinct diff.
        version += f"-dirty-{(git.diff_sha256 or '0' * 8)[:8]}"
        tags.append("dirty")
    metadata = {"repository": repository, "commit": commit,
                "branch": git.branch if git else ci.get("ref_name"),
                "path": git.path if git else None}
    return InlineAsset(ref=f"code:{namespace}/{name}@{version}", tags=tags,
                       metadata={k: v for k, v in metadata.items() if v})


def _ci_repository(ci: dict[str, Any]) -> str | None:
    if ci.get("provider") == "github_actions" and ci.get("server_url") and ci.get("repository"):
        return f"{ci['server_url']}/{ci['repository']}"
    project = ci.get("project_url")
    return project if isinstance(project, str) else None


def environment_input(namespace: str, facts: Facts) -> InlineAsset:
    """The software environment, named by Python and platform, versioned by its content."""
    gpus = facts.hardware.get("gpus") or []
    cuda = facts.hardware.get("cuda")
    metadata: dict[str, Any] = {
        "python": facts.python.get("version"), "packages": facts.packages,
        "platform": sys.platform, "accelerator": "gpu" if gpus else "cpu",
    }
    if cuda:
        metadata["cuda"] = cuda
    content = json.dumps(metadata, sort_keys=True, separators=(",", ":")).encode()
    version = hashlib.sha256(content).hexdigest()[:16]
    py = ".".join(str(facts.python.get("version", "")).split(".")[:2])
    name = clean_name(f"python{py}-{sys.platform}-{facts.hardware.get('machine') or 'any'}",
                      "python")
    return InlineAsset(ref=f"environment:{namespace}/{name}@{version}", metadata=metadata)


def run_custom(facts: Facts, extra: dict[str, Any]) -> dict[str, Any]:
    """``custom.capture`` of the run: the facts the run schema has no field for."""
    hardware = {k: v for k, v in facts.hardware.items() if v not in (None, [], {})}
    body: dict[str, Any] = {
        "command": facts.command, "cwd": facts.cwd, "python": facts.python,
        "hardware": hardware, "env": facts.env,
    }
    if facts.ci:
        body["ci"] = facts.ci
    if facts.git:
        body["git"] = facts.git.as_dict()
    if facts.refused_env:
        body["env_refused"] = facts.refused_env
    body.update(extra)
    return {"capture": body}


def run_metadata(*, params: dict[str, Any], seeds: dict[str, int], metrics: dict[str, float],
                 started: datetime, ended: datetime, status: str,
                 user: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "run_type": "training", "parameters": {k: scalar_param(v) for k, v in params.items()},
        "seeds": seeds, "metrics": metrics, "status": status,
        "started_at": started.isoformat(), "ended_at": ended.isoformat(),
    }
    if user:
        meta["user"] = user
    return meta


def version_registration(
    *, run_meta: dict[str, Any], custom: dict[str, Any], metrics: dict[str, float],
    artifacts: list[dict[str, Any]], datasets: list[str | InlineAsset],
    code: InlineAsset | None, environment: InlineAsset | None, description: str,
    tags: list[str], metadata: dict[str, Any], requirements: RequirementsIn | None = None,
) -> VersionRegistration:
    version_meta = {**metadata, "metrics": {**metadata.get("metrics", {}), **metrics},
                    "artifacts": [*metadata.get("artifacts", []), *artifacts]}
    return VersionRegistration(
        description=description, tags=tags, metadata=version_meta, model=ModelSpec(),
        run=RunSpec(metadata=run_meta, custom=custom), datasets=datasets, code=code,
        environment=environment, requirements=requirements,
    )


def requirements_of(facts: Facts) -> RequirementsIn | None:
    """What the version was trained with, as what it needs: each installed package pinned
    ``==`` (a distribution whose name or version is not PEP 508 / PEP 440 is left out: one
    bad pin would refuse the whole registration) and ``python ==X.Y.*``, origin
    ``capture``. None when nothing was collected."""
    packages: list[str | DeclaredIn] = []
    for pin in facts.packages:
        try:
            Version(pin.partition("==")[2])
            Requirement(pin)
        except (InvalidVersion, InvalidRequirement):
            continue
        packages.append(DeclaredIn(requirement=pin, file=ORIGIN))
    minor = ".".join(str(facts.python.get("version") or "").split(".")[:2])
    python = f"=={minor}.*" if re.fullmatch(r"\d+\.\d+", minor) else None
    if not packages and python is None:
        return None
    return RequirementsIn(python=python, packages=packages,
                          python_origin=OriginOut(file=ORIGIN) if python else None)


def failed_run(*, namespace: str, model: str, run_id: str, started: datetime,
               run_meta: dict[str, Any], custom: dict[str, Any], error: str) -> AssetCreate:
    """A run that produced nothing: one asset, its inputs named in ``custom.capture``."""
    name = clean_name(f"{model}-{run_meta['status']}-{started:%Y%m%dT%H%M%S}-{run_id[:6]}",
                      "run")
    return AssetCreate(
        ref=f"run:{namespace}/{name}", metadata=run_meta, custom=custom,
        description=f"{run_meta['status'].capitalize()} training run of "
                    f"model:{namespace}/{model}: {error}"[:2000],
    )
