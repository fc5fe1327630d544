"""Artifact manifests: streaming hashes, canonical order, symlink policy, and the same
root digest and Statement as the OpenSSF model-signing tool (golden files in
vectors/model_signing/, made with its CLI)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.integrity.dsse import PublicKey, parse_envelope, verify_envelope
from modelatlas.integrity.intoto import PAYLOAD_TYPE, parse_statement
from modelatlas.integrity.manifest import (
    ArtifactUnreadable,
    Manifest,
    hash_artifact,
    hash_file,
)

GOLDEN = Path(__file__).parent / "vectors/model_signing"


def _signed_statement(bundle: str) -> dict[str, object]:
    key = PublicKey.from_pem((GOLDEN / "key.pub").read_bytes())
    envelope = parse_envelope((GOLDEN / bundle).read_text())
    verified = verify_envelope(envelope, [key], payload_type=PAYLOAD_TYPE)
    parse_statement(verified.payload)  # a valid in-toto Statement on our allow-list
    document: dict[str, object] = json.loads(verified.payload)
    return document


def test_a_model_signing_directory_signature_matches_our_manifest() -> None:
    signed = _signed_statement("model.sig")
    ours = hash_artifact(GOLDEN / "tiny_model")
    assert ours.to_statement()["subject"] == signed["subject"]
    assert Manifest.from_statement(signed) == ours
    # components order paths: sub/... before sub.txt (plain string order would differ)
    assert [f.name for f in ours.files] == [
        "a.txt", "config.json", "model.bin", "sub/deeper/x.bin", "sub/empty", "sub.txt"]


def test_a_model_signing_single_file_signature_matches_our_manifest() -> None:
    signed = _signed_statement("single.sig")
    ours = hash_artifact(GOLDEN / "single.bin")
    assert [f.name for f in ours.files] == ["."]
    assert ours.to_statement()["subject"] == signed["subject"]


def test_streaming_a_file_larger_than_a_chunk(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert hash_file(tmp_path / "big.bin", chunk_size=64 * 1024) == want
    assert hash_artifact(tmp_path / "big.bin", chunk_size=4096).files[0].sha256 == want


def test_root_digest_is_stable_and_independent_of_creation_order(tmp_path: Path) -> None:
    one, two = tmp_path / "one" / "m", tmp_path / "two" / "m"
    names = ["b/z.bin", "a.bin", "b.txt", "b/a.bin", "c/d/e.bin"]
    for folder, order in ((one, names), (two, list(reversed(names)))):
        for name in order:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(name)
    first, second = hash_artifact(one), hash_artifact(two)
    assert first.root_digest == second.root_digest == hash_artifact(one).root_digest
    assert first.diff(second).matches


def test_a_changed_file_changes_the_root_and_is_named(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(GOLDEN / "tiny_model", model)
    before = hash_artifact(model)
    (model / "sub/deeper/x.bin").write_text("tampered")
    (model / "a.txt").unlink()
    (model / "new.bin").write_text("new")
    after = hash_artifact(model)
    assert after.root_digest != before.root_digest
    diff = before.diff(after)
    assert (diff.changed, diff.missing, diff.extra) == (("sub/deeper/x.bin",), ("a.txt",),
                                                        ("new.bin",))


def test_symlinks_are_refused_unless_allowed(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "real.bin").write_text("weights")
    (model / "alias.bin").symlink_to(model / "real.bin")
    with pytest.raises(ArtifactUnreadable, match="symbolic link"):
        hash_artifact(model)
    allowed = hash_artifact(model, allow_symlinks=True)
    assert allowed.by_name()["alias.bin"] == allowed.by_name()["real.bin"]
    assert allowed.serialization()["allow_symlinks"] is True
    with pytest.raises(ArtifactUnreadable, match="symbolic link"):
        hash_artifact(model / "alias.bin")


def test_a_link_to_a_directory_is_never_followed(tmp_path: Path) -> None:
    model = tmp_path / "m"
    (model / "d").mkdir(parents=True)
    (model / "loop").symlink_to(model)
    with pytest.raises(ArtifactUnreadable, match="to a directory"):
        hash_artifact(model, allow_symlinks=True)


def test_missing_and_special_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactUnreadable, match="does not exist"):
        hash_artifact(tmp_path / "nope")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ArtifactUnreadable, match="not a regular file"):
        hash_artifact(tmp_path)


def test_git_metadata_is_ignored_by_default_and_ignore_paths_are_components(
        tmp_path: Path) -> None:
    model = tmp_path / "m"
    (model / ".git").mkdir(parents=True)
    (model / ".git/HEAD").write_text("ref")
    (model / "logs").mkdir()
    (model / "logs/x").write_text("x")
    (model / "logsy").write_text("y")
    assert [f.name for f in hash_artifact(model).files] == ["logs/x", "logsy"]
    assert [f.name for f in hash_artifact(model, ignore_paths=["logs"]).files] == [
        ".git/HEAD", "logsy"]
    with pytest.raises(InvalidInput):
        hash_artifact(model, ignore_paths=["../x"])


def test_a_statement_whose_root_does_not_match_its_resources_is_refused() -> None:
    statement = hash_artifact(GOLDEN / "tiny_model").to_statement()
    statement["subject"][0]["digest"]["sha256"] = "0" * 64  # type: ignore[index]
    with pytest.raises(InvalidInput, match="resources hash to"):
        Manifest.from_statement(statement)


def test_a_statement_round_trips() -> None:
    manifest = hash_artifact(GOLDEN / "tiny_model", allow_symlinks=True, ignore_paths=["x"])
    assert Manifest.from_statement(manifest.to_statement()) == manifest
