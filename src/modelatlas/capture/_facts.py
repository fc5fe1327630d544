"""What a training process can learn about itself without being told: its code (git), its
environment (Python, platform, installed packages), its hardware, its command line, an
allow-list of environment variables, and the CI build it runs in.

Every collector is best effort and never raises: a missing ``git``, a tree that is not a
repository, or an unreadable ``/proc`` leave that fact out. Nothing here imports the
registry, so collecting facts costs a few subprocess calls and a package listing.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SUBPROCESS_TIMEOUT = 5.0

# Variables that shape a run's numerics or placement and hold no secret. A user adds names
# with ``capture(env=[...])``; names that look like secrets are refused even then.
DEFAULT_ENV_ALLOW = (
    "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "PYTHONHASHSEED", "TF_DETERMINISTIC_OPS",
    "TF_CPP_MIN_LOG_LEVEL", "SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_ARRAY_TASK_ID",
    "VIRTUAL_ENV", "CONDA_DEFAULT_ENV", "LANG", "TZ",
)
_SECRET_LOOKING = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY$|^KEY$|"
                             r"AUTH|COOKIE|SESSION)", re.IGNORECASE)

_GITHUB = {
    "GITHUB_SHA": "commit", "GITHUB_REF": "ref", "GITHUB_REF_NAME": "ref_name",
    "GITHUB_RUN_ID": "run_id", "GITHUB_RUN_NUMBER": "run_number",
    "GITHUB_RUN_ATTEMPT": "run_attempt", "GITHUB_REPOSITORY": "repository",
    "GITHUB_SERVER_URL": "server_url", "GITHUB_WORKFLOW": "workflow", "GITHUB_JOB": "job",
    "GITHUB_ACTOR": "actor", "GITHUB_EVENT_NAME": "event",
}
_GITLAB = {
    "CI_COMMIT_SHA": "commit", "CI_COMMIT_REF_NAME": "ref_name", "CI_PIPELINE_ID": "pipeline_id",
    "CI_PIPELINE_URL": "pipeline_url", "CI_JOB_ID": "job_id", "CI_JOB_NAME": "job",
    "CI_JOB_URL": "url", "CI_PROJECT_PATH": "repository", "CI_PROJECT_URL": "project_url",
    "CI_SERVER_URL": "server_url", "GITLAB_USER_LOGIN": "actor",
    "CI_PIPELINE_SOURCE": "event",
}


def _run(args: list[str], cwd: Path | None = None) -> str | None:
    """``args``' stdout stripped, or None when the program is missing or fails."""
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=SUBPROCESS_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def strip_credentials(url: str) -> str:
    """A remote URL without ``user:token@``: remotes cloned with a token carry it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def remote_uri(remote: str, root: Path) -> str:
    """A remote as a URI: one given as a local path (a clone of a repository on this
    machine, as CI checkouts often are) becomes ``file:///...``, which the registry's URI
    rules accept; URLs and scp-like ``user@host:path`` remotes stay as they are."""
    head = remote.split("/", 1)[0]
    if "://" in remote or (":" in head and not remote.startswith("/")):
        return remote
    return (root / remote).resolve().as_uri()


@dataclass(frozen=True)
class GitInfo:
    commit: str
    root: Path
    remote: str | None = None
    branch: str | None = None
    dirty: bool = False
    diff_sha256: str | None = None  # of `git diff HEAD` and untracked names, when dirty
    path: str | None = None  # the entry script relative to the repository root

    def as_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "remote": self.remote, "branch": self.branch,
                "dirty": self.dirty, "diff_sha256": self.diff_sha256, "path": self.path}


def git_info(where: Path, script: Path | None = None) -> GitInfo | None:
    """The repository ``where`` is in: HEAD, remote ``origin``, branch, dirty state."""
    if shutil.which("git") is None:
        return None
    root_text = _run(["git", "rev-parse", "--show-toplevel"], where)
    commit = _run(["git", "rev-parse", "HEAD"], where)
    if not root_text or not commit:
        return None
    root = Path(root_text)
    status = _run(["git", "status", "--porcelain", "--untracked-files=normal"], root) or ""
    diff_sha = None
    if status:
        diff = _run(["git", "diff", "HEAD", "--no-color"], root) or ""
        diff_sha = hashlib.sha256((diff + "\n" + status).encode()).hexdigest()
    remote = _run(["git", "remote", "get-url", "origin"], root)
    branch = _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], root)
    rel = None
    if script is not None:
        try:
            rel = script.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = None
    if remote:
        remote = remote_uri(strip_credentials(remote), root)
    return GitInfo(commit=commit, root=root, remote=remote or None,
                   branch=None if branch in (None, "HEAD") else branch,
                   dirty=bool(status), diff_sha256=diff_sha, path=rel)


def packages() -> list[str]:
    """Installed distributions as sorted, de-duplicated ``name==version`` pins."""
    pins: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except KeyError:  # Python 3.12+ raises where 3.11 answered None
            continue
        if not name or not dist.version:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        pins.setdefault(key, f"{key}=={dist.version}")
    return [pins[k] for k in sorted(pins)]


def _cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or None
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or None)


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs as ``nvidia-smi`` reports them; none when it is absent."""
    if shutil.which("nvidia-smi") is None:
        return []
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                "--format=csv,noheader"])
    found = []
    for line in (out or "").splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) == 3:
            found.append({"name": cells[0], "memory": cells[1], "driver": cells[2]})
    return found


def cuda_version() -> str | None:
    """CUDA as the already-imported torch knows it (we never import torch ourselves)."""
    torch = sys.modules.get("torch")
    version = getattr(getattr(torch, "version", None), "cuda", None)
    return version if isinstance(version, str) else None


def hardware() -> dict[str, Any]:
    return {"machine": platform.machine(), "cpu": _cpu_model(), "cpu_count": os.cpu_count(),
            "memory_bytes": _memory_bytes(), "gpus": gpus(), "cuda": cuda_version()}


def python_info() -> dict[str, Any]:
    return {"version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable, "platform": platform.platform()}


def allowed_env(names: Iterable[str], environ: Mapping[str, str]) -> tuple[dict[str, str],
                                                                            list[str]]:
    """The allow-listed variables that are set, and the names refused as secret-looking."""
    kept: dict[str, str] = {}
    refused: list[str] = []
    for name in dict.fromkeys(names):
        if _SECRET_LOOKING.search(name):
            refused.append(name)
        elif name in environ:
            kept[name] = environ[name]
    return kept, refused


def ci_info(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The CI build this process runs in (GitHub Actions, GitLab CI), from an allow-list."""
    if environ.get("GITHUB_ACTIONS") == "true":
        info: dict[str, Any] = {"provider": "github_actions"}
        info |= {key: environ[var] for var, key in _GITHUB.items() if environ.get(var)}
        if {"server_url", "repository", "run_id"} <= info.keys():
            info["url"] = f"{info['server_url']}/{info['repository']}/actions/runs/{info['run_id']}"
        return info
    if environ.get("GITLAB_CI") == "true":
        info = {"provider": "gitlab_ci"}
        info |= {key: environ[var] for var, key in _GITLAB.items() if environ.get(var)}
        return info
    if environ.get("CI", "").lower() in ("true", "1"):
        return {"provider": "unknown"}
    return None


@dataclass
class Facts:
    """Everything collected when a capture block opens."""

    command: list[str]
    cwd: str
    python: dict[str, Any]
    packages: list[str]
    hardware: dict[str, Any]
    env: dict[str, str]
    ci: dict[str, Any] | None
    git: GitInfo | None
    user: str | None
    refused_env: list[str] = field(default_factory=list)


def _user(environ: Mapping[str, str]) -> str | None:
    for var in ("USER", "USERNAME", "LOGNAME"):
        if environ.get(var):
            return environ[var]
    return None


def collect(env_allow: Iterable[str] = ()) -> Facts:
    environ = os.environ
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-m") else None
    if script is not None and not script.is_file():
        script = None
    env, refused = allowed_env((*DEFAULT_ENV_ALLOW, *env_allow), environ)
    return Facts(
        command=list(sys.argv), cwd=os.getcwd(), python=python_info(), packages=packages(),
        hardware=hardware(), env=env, ci=ci_info(environ),
        git=git_info(script.resolve().parent if script else Path.cwd(), script),
        user=_user(environ), refused_env=refused,
    )
