"""End to end: ``modelatlas serve`` as a real process, and the CLI talking to it with --url."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli_harness import Cli
from modelatlas.client import Client

STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).parent / "modelatlas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelatlas.cli"]


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "MODELATLAS_DATABASE_URL": database_url, "MODELATLAS_ACTOR": "server"}
    env.pop("MODELATLAS_URL", None)
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--home", str(tmp_path / "home"), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "modelatlas serve did not answer /healthz"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.mark.slow
def test_the_cli_drives_a_served_registry(server: str, tmp_path: Path) -> None:
    # no database in the environment: the CLI can only reach the registry through --url
    remote = Cli(tmp_path / "elsewhere", None)

    def cli(*args: str, code: int = 0) -> str:
        result = remote(*args, "--url", server, code=code)
        return result.stdout if code == 0 else result.stderr

    with Client(server) as client:
        client.assets.create("dataset:search/query-logs@4", metadata={"format": "parquet"})
    ref = cli("register", "search/query-ranker", "--dataset", "dataset:search/query-logs@4",
              "--metric", "ndcg_at_10=0.47", "--param", "num_leaves=127").strip()
    assert ref == "model_version:search/query-ranker@1"
    shown = json.loads(cli("show", ref, "--json"))
    assert shown["metadata"]["metrics"] == {"ndcg_at_10": 0.47}
    listed = json.loads(cli("ls", "--json", "--all", "--limit", "1"))
    assert {a["kind"] for a in listed["items"]} == {"dataset", "model", "model_version", "run"}
    with Client(server) as client:
        client.assets.create("deployment:search/query-ranker-prod", state="active")
    cli("link", "deployment:search/query-ranker-prod", "serves", ref)
    history = json.loads(cli("history", "deployment:search/query-ranker-prod", "--json"))
    assert [e["action"] for e in history["items"]] == ["asset.created", "relation.added"]
    error = cli("show", "model_version:search/nope@1", code=1)
    assert error.startswith("error: ") and len(error.splitlines()) == 1
    # nothing was written next to the CLI: it only talked to the server
    assert not (tmp_path / "elsewhere").exists()
