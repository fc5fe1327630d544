"""MLflow import against a real MLflow (from PyPI, in its own venv: `make test` builds
.venv-mlflow and sets MODELATLAS_TEST_MLFLOW_PYTHON). One tracking server per module, on a
SQLite backend, populated through MLflow's own client by data/mlflow_world.py.

Each backend's story imports, imports again (nothing new), adds a version and an alias in
MLflow, and imports a third time (just that). The server is shared by the backends, so the
first import's assertions name what the base world holds (another backend's story may
have added versions before); within one story nothing else touches the server. The module
is one xdist group, so a run (``--dist loadgroup``) starts one server, not one per worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tool_venvs import interpreter

from cli_harness import Cli
from modelatlas.errors import InvalidInput
from modelatlas.integrations.mlflow import (
    MlflowUnavailable,
    asset_name,
    check_tracking_uri,
    parse_requirements,
    run_name,
)
from modelatlas.registry import Registry
from modelatlas.registry.mlflow_types import MlflowImported
from modelatlas.registry.types import VersionRegistration

WORLD = Path(__file__).parent / "data" / "mlflow_world.py"
FRAUD = "model:mlflow/Fraud-Detector"
# MLflow 3 starts a job runner beside the server by default (for its GenAI jobs): eight
# more processes importing MLflow, ~40 s of CPU a run, for nothing these tests use.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}

pytestmark = pytest.mark.xdist_group("mlflow")


def _python() -> str:
    return interpreter("MODELATLAS_TEST_MLFLOW_PYTHON", ".venv-mlflow")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # polling a subprocess's start-up: nothing to wait on instead
    pytest.fail(f"mlflow server did not answer: {log.read_text()[-2000:]}")


class World:
    def __init__(self, python: str, url: str, root: Path) -> None:
        self.python, self.url, self.root = python, url, root

    def populate(self, step: str) -> dict[str, list[str]]:
        done = subprocess.run([self.python, str(WORLD), self.url, step], cwd=self.root,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        made: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
        return made


@pytest.fixture(scope="module")
def mlflow_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    python = _python()
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [python, "-m", "mlflow", "server", "--backend-store-uri",
             f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination",
             str(root / "artifacts"), "--serve-artifacts", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **SERVER_ENV})
    try:
        world = World(python, f"http://127.0.0.1:{port}", root)
        _wait(world.url, server, log)
        world.populate("base")
        yield world
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=3)  # a throwaway server: no need for a graceful stop
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _created(report: MlflowImported) -> set[str]:
    return {c.ref for c in report.changes if c.outcome == "created" and c.what != "alias"}


def _check_first(registry: Registry, report: MlflowImported) -> None:
    """What the base world holds, now in the registry."""
    assert {FRAUD, "model_version:mlflow/Fraud-Detector@1", "model_version:mlflow/"
            "Fraud-Detector@2", "model:mlflow/churn", "model_version:mlflow/churn@1",
            "dataset:mlflow/transactions@bf474841"} <= _created(report)
    model = registry.get_asset(FRAUD)
    assert model.custom["mlflow"]["name"] == "Fraud Detector"
    assert "team=risk" in model.tags and model.description == "flags card fraud"
    assert registry.get_alias("mlflow", "Fraud-Detector", "champion").ref.endswith("@2")
    assert registry.get_asset("model_version:mlflow/Fraud-Detector@1").state == "production"
    assert registry.get_asset("model_version:mlflow/churn@1").state == "staging"
    second = registry.get_asset("model_version:mlflow/Fraud-Detector@2")
    assert second.state == "registered" and "validated=yes" in second.tags
    assert second.metadata["metrics"] == {"auc": 0.94, "loss": 0.2}
    packages = {p.requirement for p in registry.requirements(second.ref).packages}
    assert {"numpy>=1.26", "pandas<3"} <= packages
    producers = [r for r in registry.relations(second.ref, direction="in").items
                 if r.relation == "produced"]
    assert len(producers) == 1
    run = registry.get_asset(producers[0].source)
    assert run.ref.startswith("run:mlflow/fraud-train-2-")
    assert run.metadata["parameters"] == {"lr": "0.05", "depth": "6"}
    assert run.metadata["metrics"] == {"auc": 0.94, "loss": 0.2}
    assert run.metadata["status"] == "completed"
    used = {(r.relation, r.target) for r in registry.relations(run.ref, direction="out").items}
    assert ("used", "dataset:mlflow/transactions@bf474841") in used
    dataset = registry.get_asset("dataset:mlflow/transactions@bf474841")
    assert dataset.custom["mlflow"]["source"] == "s3://bucket/transactions.csv"


def test_import_twice_then_what_is_new(registry: Registry, mlflow_world: World) -> None:
    first = registry.import_mlflow(mlflow_world.url)
    assert first.models == 2 and first.created >= 9 and not first.notes
    _check_first(registry, first)
    again = registry.import_mlflow(mlflow_world.url)
    assert (again.created, again.updated, again.changes) == (0, 0, [])
    # each asset and alias made, and each stage moved, is now found as it is
    assert again.unchanged == first.created + first.updated

    made = mlflow_world.populate("more")
    new = f"model_version:mlflow/Fraud-Detector@{made['versions'][0]}"
    third = registry.import_mlflow(mlflow_world.url)
    assert _created(third) == {new, f"run:mlflow/fraud-train-3-{made['runs'][0][:8]}"}
    assert [(c.what, c.detail) for c in third.changes if c.what == "alias"] == [
        ("alias", f"challenger -> {made['versions'][0]}")]
    assert registry.get_alias("mlflow", "Fraud-Detector", "challenger").ref == new
    assert third.updated + third.created == 3

    # the model's version counter moved with MLflow's numbers: a version registered in
    # ModelAtlas takes the next free one
    registered = registry.register_version("mlflow", "churn", VersionRegistration())
    assert registered.model_version.ref == "model_version:mlflow/churn@2"


def test_cli_import_json(local_cli: Cli, mlflow_world: World) -> None:
    first = json.loads(local_cli("import", "mlflow", "--tracking-uri", mlflow_world.url,
                                 "--namespace", "ml", "--json").stdout)
    assert first["namespace"] == "ml" and first["created"] > 0
    assert "model:ml/Fraud-Detector" in {c["ref"] for c in first["changes"]}
    again = local_cli("import", "mlflow", "--tracking-uri", mlflow_world.url,
                      "--namespace", "ml")
    assert "created 0, updated 0" in again.stdout and "(nothing new)" in again.stdout


def test_cli_refuses_a_database_uri(local_cli: Cli) -> None:
    result = local_cli("import", "mlflow", "--tracking-uri", "sqlite:///mlflow.db", code=1)
    assert "mlflow server --backend-store-uri" in result.stderr


# the mapping, without a server ----------------------------------------------------------
def test_names_fit_the_ref_grammar() -> None:
    assert asset_name("Fraud Detector") == "Fraud-Detector"
    assert asset_name("team/model v2") == "team-model-v2"
    assert asset_name("///") == "unnamed"
    assert run_name("0123456789abcdef", "train 1") == "train-1-01234567"
    assert run_name("0123456789abcdef", None) == "0123456789abcdef"


@pytest.mark.parametrize("uri", ["sqlite:///mlflow.db", "file:///tmp/mlruns", "/tmp/mlruns",
                                 "databricks"])
def test_only_a_tracking_server_url_is_read(uri: str) -> None:
    with pytest.raises(InvalidInput, match="mlflow server --backend-store-uri"):
        check_tracking_uri(uri)
    assert check_tracking_uri("http://mlflow:5000/") == "http://mlflow:5000"


def test_requirements_keep_pep508_lines_only() -> None:
    text = "# pinned\nmlflow==3.1\n\n-r base.txt\nnumpy>=1.26  # fast\n--index-url x\n"
    assert parse_requirements(text) == (["mlflow==3.1", "numpy>=1.26"],
                                        ["-r base.txt", "--index-url x"])


def test_unreachable_server_is_a_clear_error(registry: Registry) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(MlflowUnavailable, match="cannot reach MLflow"):
            registry.import_mlflow(f"http://127.0.0.1:{port}")
