"""``modelatlas audit`` against the local registry and, with MODELATLAS_URL, a real server
on the same database: check holds the log to account, publish writes or POSTs the
checkpoint, a witness co-signs from a published directory, and a client can require it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from audit_forge import rewrite_and_resign

from cli_harness import Cli
from modelatlas.integrity.note import Verifier, open_checkpoint
from modelatlas.integrity.witness import split_note
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate


@pytest.fixture
def cli(cli: Cli, tmp_path: Path) -> Cli:  # the root fixture, trusting in a folder of its own
    cli.env["MODELATLAS_TRUST_DIR"] = str(tmp_path / "trusted")
    return cli


@pytest.fixture
def registry(cli: Cli) -> Iterator[Registry]:  # the operator's view of the same database
    with cli.registry() as opened:
        yield opened


def _grow(registry: Registry, count: int, start: int = 0) -> list[int]:
    for i in range(start, start + count):
        registry.create_asset(AssetCreate(ref=f"dataset:cli/c{i}@1"))
    return [e.seq for e in registry.events(after=0, limit=500).items]


def test_check_holds_the_log_to_account(cli: Cli, registry: Registry) -> None:
    seqs = _grow(registry, 4)
    assert "at size 4 (first use: key pinned)" in cli("audit", "check").stdout
    _grow(registry, 2, start=4)
    assert "at size 6 (extends the held size 4)" in cli("audit", "check").stdout
    assert json.loads(cli("audit", "checkpoint").stdout)["size"] == 6
    assert json.loads(cli("audit", "prove", "--seq", str(seqs[1])).stdout)["leaf_index"] == 1
    assert json.loads(cli("audit", "prove", "--from", "2").stdout)["to_size"] == 6
    assert cli("audit", "public-key").stdout.strip() == registry.audit_public_key()
    rewrite_and_resign(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s",
                       s=seqs[0])
    failed = cli("audit", "check", code=1)
    assert "does not extend the checkpoint held" in failed.stderr
    assert "held size 6" in failed.stderr
    cli("audit", "checkpoint", code=1)


def test_verify_and_export_refuse_a_url(cli: Cli, registry: Registry, tmp_path: Path) -> None:
    _grow(registry, 1)
    if cli.env["MODELATLAS_URL"] is None:
        assert "ok: 1 events" in cli("audit", "verify").stdout
        return
    assert "runs where the registry is" in cli("audit", "verify", code=1).stderr
    cli("audit", "export", str(tmp_path / "x.jsonl"), code=1)


def test_publish_witness_and_require(cli: Cli, registry: Registry, tmp_path: Path) -> None:
    _grow(registry, 3)
    published = tmp_path / "published"
    assert "published size 3" in cli("audit", "publish", str(published)).stdout
    assert (published / "3").read_text() == (published / "latest").read_text()
    log_key = Verifier.parse(registry.audit_public_key())
    assert open_checkpoint((published / "latest").read_text(), log_key).size == 3

    key_file = tmp_path / "witness.key"
    public = cli("audit", "keygen", "witness.example.org", str(key_file)).stdout.strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    cli("audit", "keygen", "again", str(key_file), code=1)
    cosigned = cli("audit", "witness", "--key", str(key_file), "--from", str(published),
                   "--log-key", str(log_key), "--state", str(tmp_path / "wstate")).stdout
    assert len(split_note(cosigned)[1]) == 2
    _grow(registry, 2, start=3)
    required = json.loads(cli("audit", "checkpoint", "--witness", public).stdout)
    assert required["size"] == 3 and required["signed_note"] == cosigned
    assert json.loads(cli("audit", "checkpoint").stdout)["size"] == 5


class _Inbox(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep pytest's output clean
        pass


def test_publish_posts_to_a_url(cli: Cli, registry: Registry) -> None:
    _grow(registry, 2)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
        cli("audit", "publish", url)
    finally:
        server.shutdown()
        server.server_close()
    note = _Inbox.received.pop().decode()
    assert open_checkpoint(note, Verifier.parse(registry.audit_public_key())).size == 2
