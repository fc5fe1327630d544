"""What the capture tests share: a tiny numpy training script, a way to run it (or the
``modelatlas`` command) in a real subprocess, and a port nothing listens on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

# Fits y = a*x + b by least squares on a CSV it writes, saves the weights, and records what
# it did. ``fail`` as first argument raises after training; ``plain`` means no capture code.
TRAIN = '''
import random
import sys

import numpy as np

import modelatlas


def train(run):
    random.seed(11)
    np.random.seed(42)
    x = np.random.default_rng(5).normal(size=50)
    y = 3.0 * x + 1.0
    np.savetxt("data.csv", np.c_[x, y], delimiter=",")
    run.use_dataset("data.csv")
    data = np.loadtxt("data.csv", delimiter=",")
    design = np.c_[data[:, 0], np.ones(len(data))]
    weights, *_ = np.linalg.lstsq(design, data[:, 1], rcond=None)
    np.save("model.npy", weights)
    run.log_params({"solver": "lstsq", "rows": len(data)})
    run.log_metric("rmse", float(np.sqrt(np.mean((design @ weights - data[:, 1]) ** 2))))
    run.log_artifact("model.npy")
    if sys.argv[1:] == ["fail"]:
        raise ValueError("training diverged")


with modelatlas.capture(namespace="fraud", model="churn", env=["TRAIN_MODE"]) as run:
    train(run)
print(f"registered={run.ref} spooled={run.spooled} status={run.status}")
'''

PLAIN = '''
import random
import sys

import numpy as np

random.seed(int(sys.argv[1]))
np.random.seed(99)
x = np.arange(10.0)
np.save("plain-model.npy", np.polyfit(x, 2 * x + 1, 1))
print("trained", sys.argv[1:])
'''


def write_script(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def base_env(home: Path, database_url: str | None, url: str | None) -> dict[str, str]:
    """This process's environment without MODELATLAS_* or CI variables, then ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MODELATLAS_", "GITHUB_", "GITLAB_", "CI_")) and k != "CI"}
    env["MODELATLAS_HOME"] = str(home)
    env["MODELATLAS_ACTOR"] = "trainer"
    if database_url:
        env["MODELATLAS_DATABASE_URL"] = database_url
    if url:
        env["MODELATLAS_URL"] = url
    return env


def run_python(args: list[str], *, cwd: Path,
               env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def modelatlas_cli(args: list[str], *, cwd: Path,
                   env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "modelatlas.cli", *args], cwd=cwd, env=env)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def spool_files(home: Path) -> list[Path]:
    return sorted((home / "spool").glob("*.json"))


def spool_entry(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data
