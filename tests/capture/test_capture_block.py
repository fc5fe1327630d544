"""The capture block in this process, over both transports and both backends: what it
registers, that the training code's exceptions pass through unchanged, and that the
registry's failures never leave the block."""

from __future__ import annotations

import logging
import platform
import random
from pathlib import Path

import numpy as np
import pytest

from modelatlas.capture import Spool, capture, flush
from modelatlas.capture._files import digest_path
from modelatlas.capture._spool import Entry
from modelatlas.client import Client


class Diverged(Exception):
    pass


def test_metrics_params_and_links_in_one_registration(client: Client, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("x,y\n1,2\n")
    with capture("fraud", "churn", client=client, spool_dir=tmp_path / "spool",
                 tags=["nightly"], description="nightly fit") as run:
        dataset = run.use_dataset(data, name="rows")
        run.log_params({"alpha": 0.5, "grid": {"depth": [3, 4]}, "bad": float("nan")})
        run.log_metrics({"auc": 0.91, "loss": float("inf"), "oops": "high"})
        run.set_seed("sampler", 123)
        run.set_metadata(framework="numpy", task="regression")
    assert run.status == "completed" and run.spooled is None
    assert run.ref == "model_version:fraud/churn@1"
    version = client.assets.get(run.ref)
    assert version.metadata["metrics"] == {"auc": 0.91}
    assert (version.metadata["framework"], version.tags) == ("numpy", ["nightly"])
    assert version.description == "nightly fit"
    stored = client.assets.get("run:fraud/churn-v1")
    assert stored.metadata["parameters"] == {"alpha": 0.5, "grid": '{"depth": [3, 4]}',
                                             "bad": "nan"}
    assert stored.metadata["seeds"] == {"sampler": 123}
    assert dataset == f"dataset:fraud/rows@{digest_path(data).sha256[:12]}"
    assert client.assets.get(dataset).metadata["format"] == "csv"
    assert run.registration is not None
    assert {r.relation for r in run.registration.relations} == {"version_of", "used", "produced"}


def test_an_existing_dataset_ref_is_linked(client: Client, tmp_path: Path) -> None:
    client.assets.create("dataset:finance/tx@3", metadata={"format": "parquet"})
    with capture("fraud", "churn", client=client, spool_dir=tmp_path / "spool") as run:
        run.use_dataset("dataset:finance/tx@3")
    assert run.registration is not None
    used = [r.target for r in run.registration.relations if r.relation == "used"]
    assert "dataset:finance/tx@3" in used


def test_the_training_exception_passes_unchanged_and_a_failed_run_is_kept(
    client: Client, tmp_path: Path
) -> None:
    raised = Diverged("loss is nan")
    with pytest.raises(Diverged) as caught, capture("fraud", "churn", client=client,
                                                    spool_dir=tmp_path / "spool") as run:
        run.log_metric("loss", 12.5)
        raise raised
    assert caught.value is raised
    assert run.status == "failed" and run.failed_run is not None
    failed = client.assets.get(run.failed_run)
    assert failed.metadata["status"] == "failed"
    assert failed.metadata["metrics"] == {"loss": 12.5}
    assert failed.custom["capture"]["error"] == "Diverged: loss is nan"
    assert client.assets.list(kind="model_version").items == []


def test_keyboard_interrupt_is_an_aborted_run(client: Client, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), capture("fraud", "churn", client=client,
                                                   spool_dir=tmp_path / "spool") as run:
        raise KeyboardInterrupt
    assert run.failed_run is not None
    assert client.assets.get(run.failed_run).metadata["status"] == "aborted"


def test_a_refused_registration_never_leaves_the_block(
    client: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool")
    with caplog.at_level(logging.WARNING, "modelatlas.capture"), capture(
        "fraud", "churn", client=client, spool_dir=spool.directory
    ) as run:
        run.use_dataset("dataset:fraud/never-registered@1")
    assert run.ref is None and run.spooled is None
    assert "refused" in caplog.text
    assert spool.pending() == []
    [kept] = spool.rejected_dir.glob("*.json")
    assert '"code": "not_found"' in kept.read_text()


def test_an_unreachable_registry_spools_and_flush_sends(client: Client, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    with Client("http://127.0.0.1:9", timeout=2) as down, capture(
        "fraud", "churn", client=down, spool_dir=spool.directory
    ) as run:
        run.log_metric("auc", 0.8)
    assert run.ref is None and run.spooled is not None
    assert spool.pending() == [run.spooled]
    report = flush(client, spool=spool)
    assert [s["ref"] for s in report.sent] == ["model_version:fraud/churn@1"]
    assert flush(client, spool=spool).sent == []
    version = client.assets.get("model_version:fraud/churn@1")
    assert version.metadata["metrics"] == {"auc": 0.8}


def test_seed_functions_are_restored_after_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELATLAS_URL", raising=False)
    monkeypatch.delenv("MODELATLAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("MODELATLAS_HOME", str(tmp_path / "home"))
    originals = (random.seed, np.random.seed, np.random.default_rng)
    with capture("fraud", "churn") as run:  # the registry of MODELATLAS_HOME
        assert random.seed is not originals[0]
        random.seed(5)
        np.random.seed(6)
        np.random.default_rng(7)
        np.random.default_rng()  # no seed: nothing recorded
    assert run.seeds == {"python": 5, "numpy": 6, "numpy.default_rng": 7}
    assert (random.seed, np.random.seed, np.random.default_rng) == originals
    with Client.local(tmp_path / "home") as local:
        seeds = local.assets.get("run:fraud/churn-v1").metadata["seeds"]
    assert seeds == run.seeds


def test_directory_digests_follow_content_not_time(tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.txt").write_text("one")
    (folder / "b.txt").write_text("two")
    first = digest_path(folder)
    assert (first.files, first.size) == (2, 6)
    (folder / "a.txt").touch()
    assert digest_path(folder) == first
    (folder / "a.txt").rename(folder / "c.txt")
    assert digest_path(folder).sha256 != first.sha256


def test_installed_packages_become_pinned_requirements(client: Client, tmp_path: Path) -> None:
    with capture("fraud", "churn", client=client, spool_dir=tmp_path / "spool") as run:
        run.log_metric("auc", 0.9)
    assert run.ref is not None and run.registration is not None
    declared = client.deps.requirements(run.ref)
    pins = {p.name: p for p in declared.packages}
    assert pins["numpy"].requirement == f"numpy=={np.__version__}"
    assert pins["numpy"].origin.file == "capture" and pins["numpy"].origin.line is None
    assert all(p.specifier.startswith("==") for p in declared.packages)
    assert declared.python is not None and declared.python.startswith("==3.")
    environment = next(r.target for r in run.registration.relations
                       if r.target.startswith("environment:"))
    assert client.deps.check(run.ref, environment).compatible  # what it was trained in
    moved = client.deps.check(run.ref, environment={
        "python": platform.python_version(),
        "packages": {p.name: p.specifier[2:] for p in declared.packages if p.name != "numpy"}})
    assert not moved.compatible
    assert "numpy" in {v.subject for v in moved.violations}


def test_a_failed_run_is_linked_to_its_datasets_code_and_environment(
    client: Client, tmp_path: Path
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("x,y\n1,2\n")
    client.assets.create("dataset:finance/tx@3")
    with pytest.raises(Diverged), capture("fraud", "churn", client=client,
                                          spool_dir=tmp_path / "spool") as run:
        local = run.use_dataset(data, name="rows")
        run.use_dataset("dataset:finance/tx@3")
        raise Diverged("loss is nan")
    assert run.failed_run is not None and run.spooled is None
    failed = client.assets.get(run.failed_run)
    used = {r.target for r in client.assets.relations(run.failed_run, direction="out").items}
    facts = failed.custom["capture"]
    expected = {local, "dataset:finance/tx@3", facts["environment"]}
    if facts["code"] is not None:  # None only where the tests run outside a git checkout
        expected.add(facts["code"])
    assert used == expected
    assert client.assets.get(str(local)).metadata["digest"].startswith("sha256:")
    assert client.assets.list(kind="model_version").items == []


def test_a_failed_run_whose_links_are_refused_is_recorded_alone(
    client: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "modelatlas.capture"), pytest.raises(Diverged), \
            capture("fraud", "churn", client=client, spool_dir=tmp_path / "spool") as run:
        run.use_dataset("dataset:fraud/never-registered@1")
        raise Diverged("loss is nan")
    assert run.failed_run is not None
    assert "refused the links" in caplog.text
    assert client.assets.relations(run.failed_run, direction="out").items == []
    assert client.assets.get(run.failed_run).custom["capture"]["datasets"] == [
        {"ref": "dataset:fraud/never-registered@1"}]


def test_a_spooled_failed_run_from_before_links_still_flushes(
    client: Client, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    old = {"ref": "run:fraud/churn-failed-20240101T000000-abcdef",
           "metadata": {"status": "failed"}, "custom": {"capture": {"error": "boom"}}}
    spool.write(Entry("create_asset", old, "abcdef0123"))
    report = flush(client, spool=spool)
    assert [s["ref"] for s in report.sent] == [old["ref"]]
    assert client.assets.get(old["ref"]).metadata["status"] == "failed"


def test_a_failed_run_spooled_while_the_registry_is_down_is_linked_on_flush(
    client: Client, tmp_path: Path
) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("x,y\n1,2\n")
    spool = Spool(tmp_path / "spool")
    with Client("http://127.0.0.1:9", timeout=2) as down, pytest.raises(Diverged), capture(
        "fraud", "churn", client=down, spool_dir=spool.directory
    ) as run:
        local = run.use_dataset(data)
        raise Diverged("loss is nan")
    assert run.spooled is not None and run.failed_run is None
    assert '"operation": "record_run"' in run.spooled.read_text()
    [sent] = flush(client, spool=spool).sent
    used = {r.target for r in client.assets.relations(sent["ref"], direction="out").items}
    assert local in used
