"""Reconciling recorded artifact digests with real files: versions registered with files
in tmp_path, then one deleted, one changed, one left alone, one on a scheme nothing reads;
through the SDK (in-process and HTTP, both backends) and the ``audit reconcile`` command."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_harness import Cli
from modelatlas.capture._files import digest_path
from modelatlas.client import Client
from modelatlas.integrity.manifest import hash_artifact
from modelatlas.integrity.reconcile import (
    ArtifactMissing,
    Contents,
    LocalFileReader,
    ReconcileReport,
    reconcile,
)
from modelatlas.registry import AssetCreate, Registry, VersionRegistration


@dataclass(frozen=True)
class World:
    kept: Path  # model_version:fraud/churn@1, a single file, left alone
    folder: Path  # @2, a directory registered with a manifest; a file in it will change
    gone: Path  # @3, a file that will be deleted
    data: Path  # dataset:fraud/rows@1, a file with location and digest


def _artifact(path: Path, sha256: str) -> dict[str, object]:
    return {"uri": path.resolve().as_uri(), "sha256": sha256,
            "size": digest_path(path).size, "name": path.name}


def _register(registry: Registry, root: Path) -> World:
    """Four artifacts, each digest in one of the forms the codebase records."""
    root.mkdir(parents=True)
    kept = root / "kept model.bin"  # a space: the URI is percent-encoded
    kept.write_bytes(b"weights v1")
    folder = root / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "sub" / "w.bin").write_bytes(b"\x00\x01")
    gone = root / "gone.bin"
    gone.write_bytes(b"soon deleted")
    data = root / "rows.csv"
    data.write_text("x,y\n1,2\n")
    manifest = hash_artifact(folder)
    versions = [
        VersionRegistration(metadata={"artifacts": [_artifact(kept, digest_path(kept).sha256)]}),
        VersionRegistration(metadata={"artifacts": [_artifact(folder, manifest.root_digest)]},
                            manifest=manifest.to_statement()),
        VersionRegistration(metadata={"artifacts": [
            _artifact(gone, digest_path(gone).sha256),
            {"uri": "s3://models/fraud/churn.bin", "sha256": "ab" * 32, "size": 1}]}),
    ]
    for version in versions:
        registry.register_version("fraud", "churn", version)
    registry.create_asset(AssetCreate(ref="dataset:fraud/rows@1", metadata={
        "location": data.resolve().as_uri(), "digest": f"sha256:{digest_path(data).sha256}"}))
    registry.create_asset(AssetCreate(ref="dataset:fraud/unlocated@1"))  # nothing recorded
    return World(kept, folder, gone, data)


def _damage(world: World) -> None:
    world.gone.unlink()
    (world.folder / "sub" / "w.bin").write_bytes(b"\x00\x02")


def _by_uri(report: ReconcileReport) -> dict[str, str]:
    return {check.uri: check.status for check in report.checks}


@pytest.fixture
def world(registry: Registry, tmp_path: Path) -> World:
    made = _register(registry, tmp_path / "files")
    _damage(made)
    return made


def test_missing_changed_ok_and_unreadable(client: Client, world: World) -> None:
    report = reconcile(client)
    assert report.assets == 5  # three versions, two datasets
    assert _by_uri(report) == {
        world.kept.resolve().as_uri(): "ok",
        world.folder.resolve().as_uri(): "changed",
        world.gone.resolve().as_uri(): "missing",
        "s3://models/fraud/churn.bin": "unreadable",
        world.data.resolve().as_uri(): "ok",
    }
    assert report.counts() == {"ok": 2, "missing": 1, "changed": 1, "unreadable": 1}
    assert not report.clean
    changed = next(c for c in report.checks if c.status == "changed")
    assert (changed.ref, changed.changed_files) == ("model_version:fraud/churn@2", ("sub/w.bin",))
    assert changed.missing_files == changed.extra_files == ()
    unreadable = next(c for c in report.checks if c.status == "unreadable")
    assert "s3://" in unreadable.reason and "modelatlas.artifact_readers" in unreadable.reason


def test_a_query_or_refs_pick_the_assets(client: Client, world: World) -> None:
    picked = reconcile(client, query="kind:model_version ref:model_version:fraud/churn@1")
    assert (picked.assets, picked.counts()["ok"], picked.clean) == (1, 1, True)
    by_ref = reconcile(client, refs=["model_version:fraud/churn@3"])
    assert sorted(c.status for c in by_ref.checks) == ["missing", "unreadable"]
    assert reconcile(client, query="kind:dataset", page_size=1).assets == 2  # pages


def test_a_restored_file_is_ok_again(client: Client, world: World) -> None:
    (world.folder / "sub" / "w.bin").write_bytes(b"\x00\x01")
    world.gone.write_bytes(b"soon deleted")
    report = reconcile(client, query="kind:model_version")
    assert report.clean and report.counts()["ok"] == 3


def test_a_directory_in_capture_form_and_an_extra_file(client: Client, registry: Registry,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.txt").write_text("one")
    registry.register_version("fraud", "shards", VersionRegistration(metadata={
        "artifacts": [_artifact(folder, digest_path(folder).sha256)]}))
    assert reconcile(client).clean
    (folder / "b.txt").write_text("two")  # no manifest: the digest alone tells
    [check] = reconcile(client).checks
    assert check.status == "changed" and check.actual == digest_path(folder).sha256


def test_the_local_reader(tmp_path: Path) -> None:
    reader = LocalFileReader()
    spaced = tmp_path / "a b.bin"
    spaced.write_bytes(b"x")
    assert reader.can_read(spaced.as_uri()) and reader.can_read(str(spaced))
    assert reader.can_read("file://localhost/tmp/x")
    assert not reader.can_read("file://otherhost/tmp/x")
    assert not reader.can_read("s3://bucket/key")
    contents = reader.read(spaced.as_uri())
    assert contents == Contents((contents.files[0],), True)
    assert contents.sha256 == hashlib.sha256(b"x").hexdigest()
    with pytest.raises(ArtifactMissing):
        reader.read(str(tmp_path / "nothing"))


def test_the_command_exits_1_and_names_what_is_wrong(cli: Cli, tmp_path: Path) -> None:
    with cli.registry() as registry:
        world = _register(registry, tmp_path / "files")
    clean = cli("audit", "reconcile", "--json")
    assert json.loads(clean.stdout)["counts"] == {"ok": 4, "missing": 0, "changed": 0,
                                                  "unreadable": 1}
    _damage(world)
    table = cli("audit", "reconcile", code=1)
    assert "missing" in table.stdout and "changed sub/w.bin" in table.stdout
    assert "5 assets, 5 artifacts: 2 ok, 1 missing, 1 changed, 1 unreadable" in table.stdout
    assert "kept" not in table.stdout  # ok rows only with --all
    assert cli("audit", "reconcile", "--all", "-q", "kind:dataset").stdout.count("ok") >= 1
    picked = cli("audit", "reconcile", "--json", "model_version:fraud/churn@3", code=1)
    assert {c["status"] for c in json.loads(picked.stdout)["checks"]} == {"missing",
                                                                          "unreadable"}
