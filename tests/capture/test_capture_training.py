"""The capture block in real training subprocesses: online (local registry and HTTP),
offline with spool and flush, failing, and a script wrapped by ``modelatlas capture``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from capture_helpers import (
    PLAIN,
    TRAIN,
    base_env,
    closed_port_url,
    modelatlas_cli,
    run_python,
    spool_entry,
    spool_files,
    write_script,
)

from modelatlas.registry import Asset, Registry

pytestmark = pytest.mark.slow  # every test spawns Python processes


def _versions(registry: Registry) -> list[Asset]:
    return registry.list_assets(kind="model_version").items


def _runs(registry: Registry) -> list[Asset]:
    return registry.list_assets(kind="run").items


def _targets(registry: Registry, ref: str, relation: str) -> list[str]:
    page = registry.relations(ref, direction="out", relation=relation)
    return sorted(r.target for r in page.items)


def _assert_registered(registry: Registry, work: Path, number: int = 1) -> None:
    version = registry.get_asset(f"model_version:fraud/churn@{number}")
    assert 0 <= version.metadata["metrics"]["rmse"] < 1e-9
    artifact = version.metadata["artifacts"][0]
    assert artifact["name"] == "model.npy"
    assert artifact["uri"] == (work / "model.npy").resolve().as_uri()
    assert artifact["size"] == (work / "model.npy").stat().st_size
    run = registry.get_asset(f"run:fraud/churn-v{number}")
    assert run.metadata["status"] == "completed"
    assert run.metadata["seeds"] == {"python": 11, "numpy": 42, "numpy.default_rng": 5}
    assert run.metadata["parameters"] == {"solver": "lstsq", "rows": 50}
    captured = run.custom["capture"]
    assert captured["command"][-1].endswith("train.py")
    assert captured["cwd"] == str(work)
    assert captured["python"]["version"].count(".") == 2
    used = _targets(registry, run.ref, "used")
    dataset = [t for t in used if t.startswith("dataset:")]
    assert dataset == [f"dataset:fraud/data@{captured['datasets'][0]['sha256'][:12]}"]
    data = registry.get_asset(dataset[0])
    assert data.metadata["digest"] == f"sha256:{captured['datasets'][0]['sha256']}"
    assert data.metadata["size_bytes"] == (work / "data.csv").stat().st_size
    env = registry.get_asset(next(t for t in used if t.startswith("environment:")))
    assert any(p.startswith("numpy==") for p in env.metadata["packages"])
    assert _targets(registry, run.ref, "produced") == [version.ref]


def test_online_against_the_local_registry(registry: Registry, database_url: str,
                                           tmp_path: Path) -> None:
    work = tmp_path / "work"
    write_script(work, "train.py", TRAIN)
    env = base_env(tmp_path / "trainer", database_url, None)
    done = run_python(["train.py"], cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert "registered=model_version:fraud/churn@1 spooled=None" in done.stdout
    _assert_registered(registry, work)
    assert spool_files(tmp_path / "trainer") == []


def test_online_over_http(registry: Registry, base_url: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    write_script(work, "train.py", TRAIN)
    done = run_python(["train.py"], cwd=work, env=base_env(tmp_path / "trainer", None, base_url))
    assert done.returncode == 0, done.stderr
    _assert_registered(registry, work)
    assert registry.get_asset("run:fraud/churn-v1").created_by == "tester"  # the server's actor


def test_offline_spools_then_flush_registers_once(registry: Registry, base_url: str,
                                                  tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "trainer"
    write_script(work, "train.py", TRAIN)
    done = run_python(["train.py"], cwd=work, env=base_env(home, None, closed_port_url()))
    assert done.returncode == 0, done.stderr
    assert "registered=None spooled=" in done.stdout
    assert "registry unreachable" in done.stderr and "capture flush" in done.stderr
    [entry] = spool_files(home)
    saved = entry.read_bytes()
    assert spool_entry(entry)["operation"] == "register_version"
    assert _versions(registry) == []

    flushed = modelatlas_cli(["capture", "flush", "--url", base_url, "--json"], cwd=work,
                             env=base_env(home, None, None))
    assert flushed.returncode == 0, flushed.stderr
    assert '"ref": "model_version:fraud/churn@1"' in flushed.stdout
    assert spool_files(home) == []
    _assert_registered(registry, work)

    # The answer was lost and the same entry is sent again: the idempotency key holds.
    entry.write_bytes(saved)
    again = modelatlas_cli(["capture", "flush", "--url", base_url], cwd=work,
                           env=base_env(home, None, None))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "sent model_version:fraud/churn@1"
    empty = modelatlas_cli(["capture", "flush", "--url", base_url], cwd=work,
                           env=base_env(home, None, None))
    assert empty.stdout.strip() == "nothing to send"
    assert [v.ref for v in _versions(registry)] == ["model_version:fraud/churn@1"]


def test_the_next_capture_sends_the_spool_first(registry: Registry, base_url: str,
                                                tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "trainer"
    write_script(work, "train.py", TRAIN)
    offline = run_python(["train.py"], cwd=work, env=base_env(home, None, closed_port_url()))
    assert offline.returncode == 0 and len(spool_files(home)) == 1
    online = run_python(["train.py"], cwd=work, env=base_env(home, None, base_url))
    assert online.returncode == 0, online.stderr
    assert "registered=model_version:fraud/churn@2" in online.stdout
    assert spool_files(home) == []
    runs = {r.ref: r.custom["capture"]["run_id"] for r in _runs(registry)}
    assert set(runs) == {"run:fraud/churn-v1", "run:fraud/churn-v2"}
    assert len(set(runs.values())) == 2


def test_flush_with_the_registry_still_down_keeps_the_spool(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "trainer"
    write_script(work, "train.py", TRAIN)
    down = closed_port_url()
    assert run_python(["train.py"], cwd=work, env=base_env(home, None, down)).returncode == 0
    flushed = modelatlas_cli(["capture", "flush", "--url", down], cwd=work,
                             env=base_env(home, None, None))
    assert flushed.returncode == 1
    assert "1 still waiting" in flushed.stdout
    assert len(spool_files(home)) == 1


def test_a_failing_script_keeps_its_exit_and_records_a_failed_run(
    registry: Registry, database_url: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    write_script(work, "train.py", TRAIN)
    done = run_python(["train.py", "fail"], cwd=work,
                      env=base_env(tmp_path / "trainer", database_url, None))
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith("ValueError: training diverged")
    assert 'train.py", line' in done.stderr and "registered=" not in done.stdout
    assert _versions(registry) == []
    [run] = _runs(registry)
    assert run.ref.startswith("run:fraud/churn-failed-")
    assert run.metadata["status"] == "failed"
    assert run.metadata["metrics"]["rmse"] < 1e-9
    captured = run.custom["capture"]
    assert captured["error"] == "ValueError: training diverged"
    assert captured["model"] == "model:fraud/churn"
    assert captured["datasets"][0]["ref"].startswith("dataset:fraud/data@")


def test_capture_wraps_a_script_written_without_it(registry: Registry, database_url: str,
                                                   tmp_path: Path) -> None:
    import sys

    work = tmp_path / "work"
    write_script(work, "plain.py", PLAIN)
    env = base_env(tmp_path / "trainer", database_url, None)
    done = modelatlas_cli(["capture", "-n", "fraud", "-m", "churn", "--tag", "wrapped", "--",
                           sys.executable, "plain.py", "7"], cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    assert "trained ['7']" in done.stdout
    version = registry.get_asset("model_version:fraud/churn@1")
    assert version.tags == ["wrapped"]
    run = registry.get_asset("run:fraud/churn-v1")
    assert run.metadata["seeds"] == {"python": 7, "numpy": 99}
    assert run.custom["capture"]["command"] == [sys.executable, "plain.py", "7"]


def test_capture_wraps_a_failing_command_and_keeps_its_status(
    registry: Registry, database_url: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = base_env(tmp_path / "trainer", database_url, None)
    sh = shutil.which("sh")
    assert sh is not None
    done = modelatlas_cli(["capture", "-n", "fraud", "-m", "churn", "--", sh, "-c", "exit 3"],
                          cwd=work, env=env)
    assert done.returncode == 3
    [run] = _runs(registry)
    assert run.metadata["status"] == "failed"
    assert run.custom["capture"]["error"] == "exit status 3"
    assert run.custom["capture"]["command"] == [sh, "-c", "exit 3"]


@pytest.mark.parametrize("args", [[], ["-n", "fraud", "-m", "churn"]])
def test_capture_without_a_command_is_a_usage_error(args: list[str], tmp_path: Path) -> None:
    done = modelatlas_cli(["capture", *args], cwd=tmp_path,
                          env=base_env(tmp_path / "trainer", None, closed_port_url()))
    assert done.returncode == 1
    assert done.stderr.startswith("error: give the command after --")
