"""End to end: ``modelatlas serve`` as a real process runs the webhook worker, and the CLI
manages the webhook over HTTP. A receiver on loopback (allowed by the operator setting)
gets the registration's event, signed with the secret the CLI printed once."""

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
from webhook_receiver import Receiver, receiver

from cli_harness import Cli
from modelatlas.client import verify_signature

DEADLINE_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():  # type: ignore[operator]
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()}"
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes],
                                                               Path]]:
    port, log = _free_port(), tmp_path / "serve.log"
    env = {**os.environ, "MODELATLAS_DATABASE_URL": database_url, "MODELATLAS_ACTOR": "ops",
           "MODELATLAS_WEBHOOK_ALLOW_PRIVATE": "true", "MODELATLAS_WEBHOOK_POLL_SECONDS": "0.2"}
    env.pop("MODELATLAS_URL", None)
    script = Path(sys.executable).parent / "modelatlas"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(script), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--home", str(tmp_path / "home"), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            _wait(up, "modelatlas serve did not answer /healthz", process, log)
            yield url, process, log
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.mark.slow
def test_serve_delivers_webhooks_signed(served: tuple[str, subprocess.Popen[bytes], Path],
                                        tmp_path: Path, database_url: str) -> None:
    url, process, log = served
    cli = Cli(tmp_path / "cli-home", database_url, url)
    hook: Receiver
    with receiver() as hook:
        created = json.loads(cli("webhooks", "create", "fraud", hook.url, "--event",
                                 "registered", "--allow-private", "--json").stdout)
        listed = json.loads(cli("webhooks", "list", "fraud", "--json").stdout)
        assert [w["id"] for w in listed] == [created["id"]]
        assert "secret" not in json.dumps(listed)
        cli("register", "fraud/churn")
        _wait(lambda: hook.received, "no delivery reached the receiver", process, log)
        delivery = hook.received[0]
        verify_signature(created["secret"], delivery.headers["X-ModelAtlas-Timestamp"],
                         delivery.body, delivery.headers["X-ModelAtlas-Signature"])
        event = json.loads(delivery.body)
        assert (event["action"], event["ref"]) == ("model_version.registered",
                                                   "model_version:fraud/churn@1")
        _wait(lambda: json.loads(cli("webhooks", "deliveries", str(created["id"]),
                                     "--json").stdout)["items"][0]["status"] == "delivered",
              "the delivery log does not say delivered", process, log)
