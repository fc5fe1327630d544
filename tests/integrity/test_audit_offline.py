"""The CLI end to end on both backends: ``audit export`` writes a file that
``audit verify --offline FILE --public-key KEY`` checks with nothing else; a tampered
export fails naming the first bad seq; proofs and checkpoints print as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelatlas.cli import app
from modelatlas.config import Settings
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate


@pytest.fixture
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    registry = Registry.open(settings)
    try:
        for i in range(6):
            registry.create_asset(AssetCreate(ref=f"dataset:offline/o{i}@1"))
            if i == 2:
                registry.audit_checkpoint()
    finally:
        registry.close()
    monkeypatch.setenv("MODELATLAS_DATABASE_URL", settings.resolved_database_url())
    return settings.home


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _export(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    code, out = _run("audit", "export", str(tmp_path / "log.jsonl"), "--home", str(home))
    assert code == 0, out
    code, key = _run("audit", "public-key", "--home", str(home))
    assert code == 0, key
    (tmp_path / "audit.pub").write_text(key)
    return tmp_path / "log.jsonl", tmp_path / "audit.pub"


def test_export_verifies_offline_with_only_the_key(home: Path, tmp_path: Path) -> None:
    exported, key = _export(home, tmp_path)
    code, out = _run("audit", "verify", "--offline", str(exported), "--public-key", str(key))
    assert code == 0, out
    assert "ok: 6 events, 2 signed heads" in out


def _rewrite(path: Path, change: dict[int, dict[str, object] | None]) -> list[int]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    seqs = [item["seq"] for item in lines if "seq" in item]
    kept = []
    for item in lines:
        if "seq" in item and item["seq"] in change:
            if change[item["seq"]] is None:
                continue
            item = {**item, **(change[item["seq"]] or {})}
        kept.append(json.dumps(item))
    path.write_text("\n".join(kept) + "\n")
    return seqs


@pytest.mark.parametrize(("what", "edit", "bad_index"), [
    ("payload", {"payload": "{}"}, 4),
    ("actor", {"actor": "mallory"}, 3),
    ("deleted", None, 4),
])
def test_a_tampered_export_fails(home: Path, tmp_path: Path, what: str,
                                 edit: dict[str, object] | None, bad_index: int) -> None:
    exported, key = _export(home, tmp_path)
    seqs = [json.loads(line)["seq"] for line in exported.read_text().splitlines()
            if '"seq"' in line]
    _rewrite(exported, {seqs[bad_index]: edit})
    code, out = _run("audit", "verify", "--offline", str(exported), "--public-key", str(key))
    assert code == 1
    # a payload edit names its own event; anything else the first event after the head at
    # size 3 (the last one that still matches)
    named = seqs[bad_index] if what == "payload" else seqs[3]
    assert f"seq {named}" in out, out


def test_another_key_is_refused(home: Path, tmp_path: Path) -> None:
    exported, _ = _export(home, tmp_path)
    other = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    code, out = _run("audit", "verify", "--offline", str(exported), "--public-key", other)
    assert code == 1 and "no signature by PeterNeumann" in out


def test_verify_prove_and_checkpoint_on_the_registry(home: Path) -> None:
    code, out = _run("audit", "verify", "--home", str(home))
    assert code == 0 and "ok: 6 events" in out, out
    code, out = _run("audit", "checkpoint", "--home", str(home))
    assert code == 0 and json.loads(out)["size"] == 6
    code, out = _run("audit", "prove", "--seq", "1", "--home", str(home))
    assert code == 0 and json.loads(out)["leaf_index"] == 0, out
    code, out = _run("audit", "prove", "--from", "3", "--to", "6", "--home", str(home))
    assert code == 0 and json.loads(out)["to_size"] == 6, out
    code, out = _run("audit", "prove", "--home", str(home))
    assert code == 1 and "either --seq or --from" in out
    code, out = _run("audit", "verify", "--offline", str(home / "nope.jsonl"))
    assert code != 0
