"""Acknowledged writes survive ``kill -9`` of the server, and nothing half-written remains.

Each round starts a real `uvicorn` server on SQLite, fires writes from a few client
threads, records every write the server acknowledged (201), kills the server with SIGKILL
at a random moment, then opens the database file directly with the stdlib ``sqlite3``.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROUNDS = 5
CLIENTS = 3


@dataclass
class Acks:
    assets: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELATLAS_")}
    env.update(MODELATLAS_HOME=str(home), MODELATLAS_ACTOR="durability")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "modelatlas.api:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"server did not start:\n{log.read_text()}")


def client_loop(base: str, tag: str, stop: threading.Event, acks: Acks) -> None:
    """Alternate plain asset creations and registrations that write many rows at once."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=10) as http:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 2:
                    ref = f"dataset:dur/{tag}-{n}@1"
                    resp = http.post("/assets", json={"ref": ref, "metadata": {"row_count": n}})
                    kind = "asset"
                else:
                    body = {
                        "metadata": {"metrics": {"auc": 0.5}},
                        "datasets": [{"ref": f"dataset:dur/{tag}-in-{n}@1"}],
                        "environment": {"ref": f"environment:dur/{tag}-env-{n}",
                                        "metadata": {"python": "3.11"}},
                    }
                    resp = http.post(f"/models/dur/{tag}/versions", json=body)
                    kind = "version"
            except httpx.TransportError:
                return  # the server is gone: this write was never acknowledged
            with acks.lock:
                if resp.status_code != 201:
                    acks.failures.append(f"{resp.status_code} {resp.text}")
                elif kind == "asset":
                    acks.assets.append(resp.json()["ref"])
                else:
                    acks.versions.append(resp.json()["model_version"]["ref"])


def one_round(home: Path, log: Path, round_no: int, rng: random.Random) -> Acks:
    proc, base = start_server(home, log)
    acks, stop = Acks(), threading.Event()
    threads = [
        threading.Thread(target=client_loop, args=(base, f"r{round_no}c{i}", stop, acks))
        for i in range(CLIENTS)
    ]
    try:
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for t in threads:
            t.join(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not acks.failures, acks.failures
    return acks


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "registry.db"


def ids_of(db: sqlite3.Connection, refs: list[str]) -> dict[str, int]:
    found = {}
    for ref in refs:
        kind, rest = ref.split(":", 1)
        namespace, rest = rest.split("/", 1)
        name, _, version = rest.partition("@")
        row = db.execute(
            "SELECT id FROM assets WHERE kind=? AND namespace=? AND name=? AND version=?",
            (kind, namespace, name, version),
        ).fetchone()
        assert row is not None, f"acknowledged {ref} is missing after kill -9"
        found[ref] = row[0]
    return found


def check_database(path: Path, acks: Acks) -> None:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        for ref, asset_id in ids_of(db, acks.assets).items():
            assert db.execute(
                "SELECT count(*) FROM events WHERE asset_id=? AND action='asset.created'",
                (asset_id,),
            ).fetchone() == (1,), f"{ref} has no creation event"
        ids_of(db, acks.versions)
        check_no_half_writes(db)
    finally:
        db.close()


def check_no_half_writes(db: sqlite3.Connection) -> None:
    orphans = db.execute(
        """SELECT a.kind, a.name, a.version FROM assets a WHERE NOT EXISTS (
               SELECT 1 FROM events e WHERE e.asset_id = a.id AND e.action =
               CASE a.kind WHEN 'model_version' THEN 'model_version.registered'
                           ELSE 'asset.created' END)"""
    ).fetchall()
    assert orphans == [], f"assets without their creation event: {orphans}"
    unlinked = db.execute(
        """SELECT v.name, v.version FROM assets v WHERE v.kind = 'model_version'
           AND NOT EXISTS (SELECT 1 FROM relations r JOIN assets m ON m.id = r.target_id
                           WHERE r.source_id = v.id AND r.relation = 'version_of'
                           AND m.kind = 'model' AND m.name = v.name)
           OR v.kind = 'model_version' AND NOT EXISTS (SELECT 1 FROM relations r
               WHERE r.target_id = v.id AND r.relation = 'produced')"""
    ).fetchall()
    assert unlinked == [], f"model versions missing version_of or their run: {unlinked}"
    edges_without_event = db.execute(
        """SELECT count(*) FROM relations r WHERE NOT EXISTS (SELECT 1 FROM events e
           WHERE e.asset_id = r.source_id AND e.action = 'relation.added')"""
    ).fetchone()
    assert edges_without_event == (0,)
    series = db.execute(
        """SELECT namespace, name, count(*), min(version_number), max(version_number)
           FROM assets WHERE kind = 'model_version' GROUP BY namespace, name"""
    ).fetchall()
    for namespace, name, count, low, high in series:
        assert (low, high) == (1, count), f"{namespace}/{name}: versions are not 1..{count}"
        last = db.execute(
            "SELECT last FROM version_counters WHERE kind='model_version' AND namespace=? "
            "AND name=?", (namespace, name),
        ).fetchone()
        assert last == (count,), f"{namespace}/{name}: counter {last} but {count} versions"


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: Path, database: Path) -> None:
    pytest.importorskip("modelatlas.api")
    rng = random.Random(os.environ.get("MODELATLAS_TEST_SEED", "kill-9"))
    log = tmp_path / "server.log"
    total = Acks()
    for round_no in range(ROUNDS):
        acks = one_round(tmp_path, log, round_no, rng)
        total.assets += acks.assets
        total.versions += acks.versions
        check_database(database, total)
    assert total.assets and total.versions, "no write was acknowledged: the test proved nothing"
