"""``modelatlas verify-artifact``, ``manifest``, ``keys`` and ``attest`` through the CLI,
locally and against a real server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from attest_world import TINY_MODEL, envelope, new_key, pem, statement

from cli_harness import Cli
from modelatlas.registry import VersionRegistration

REF = "model_version:fraud/churn@1"


@pytest.fixture
def registered(cli: Cli, tmp_path: Path) -> str:
    """A version registered with the manifest ``modelatlas manifest`` wrote."""
    written = tmp_path / "manifest.json"
    cli("manifest", str(TINY_MODEL), "-o", str(written))
    with cli.registry() as registry:
        registry.register_version("fraud", "churn", VersionRegistration(
            manifest=json.loads(written.read_text())))
    return REF


def test_verify_artifact_accepts_an_identical_copy(cli: Cli, registered: str) -> None:
    result = cli("verify-artifact", registered, str(TINY_MODEL))
    assert result.stdout.startswith("OK ")
    assert "6 files" in result.stdout


def test_verify_artifact_names_each_differing_file(cli: Cli, registered: str,
                                                   tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(TINY_MODEL, copy)
    (copy / "sub/deeper/x.bin").write_text("tampered")
    (copy / "config.json").unlink()
    (copy / "extra.bin").write_text("new")
    result = cli("verify-artifact", registered, str(copy), code=1)
    assert result.stdout.splitlines() == [
        "changed: sub/deeper/x.bin", "missing: config.json", "extra: extra.bin"]
    assert "1 changed, 1 missing, 1 extra" in result.stderr


def test_verify_artifact_refuses_a_symlink_the_manifest_did_not_allow(
        cli: Cli, registered: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(TINY_MODEL, copy)
    (copy / "a.txt").unlink()
    (copy / "a.txt").symlink_to(TINY_MODEL / "a.txt")
    result = cli("verify-artifact", registered, str(copy), code=1)
    assert "symbolic link" in result.stderr


def test_keys_and_attestations(cli: Cli, registered: str, tmp_path: Path) -> None:
    key = new_key()
    (tmp_path / "key.pub").write_text(pem(key))
    added = cli("keys", "add", "fraud", str(tmp_path / "key.pub"), "--name", "ci")
    key_id = added.stdout.split()[3]
    assert key_id in cli("keys", "list", "fraud").stdout
    (tmp_path / "env.json").write_text(json.dumps(envelope(statement(), key)))
    assert "by fraud" in cli("attest", "upload", registered, str(tmp_path / "env.json")).stdout
    assert "by registry" in cli("attest", "sign", registered).stdout
    listed = cli("attest", "list", registered).stdout
    assert "attestations verified" in listed and listed.count("#") == 3
    cli("keys", "revoke", "fraud", key_id)
    refused = cli("attest", "upload", registered, str(tmp_path / "env.json"), code=1)
    assert "revoked at" in refused.stderr
    (tmp_path / "other.json").write_text(json.dumps(envelope(statement("cd" * 32), key)))
    assert json.loads(cli("keys", "list", "fraud", "--json").stdout)[0]["revoked_at"]
