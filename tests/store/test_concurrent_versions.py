"""Version numbers under real concurrency: several processes, one database, no gaps.

Each worker is a separate Python process with its own engine, so this exercises what a
deployment does (several `modelatlas serve` processes, or CLI writes beside a server):
SQLite's one write lock (``BEGIN IMMEDIATE``) and PostgreSQL's row lock on the counter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelatlas.errors import MetadataInvalid
from modelatlas.registry import InlineAsset, ModelSpec, Registry, VersionRegistration
from modelatlas.store.tables import assets, events, relations

WORKER = Path(__file__).with_name("register_worker.py")
PROCESSES = 4
PER_PROCESS = 10


def run_workers(
    registry: Registry, tmp_path: Path, namespace: str, name: str
) -> list[list[int]]:
    """Start the workers, release them together, and return each one's version numbers."""
    url = registry.db.url.render_as_string(hide_password=False)
    go = tmp_path / "go"
    ready_files = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    procs: list[subprocess.Popen[str]] = []
    try:
        for ready in ready_files:
            args = [url, str(tmp_path), namespace, name, str(PER_PROCESS), str(ready), str(go)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), *args],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
            )
        deadline = time.monotonic() + 60
        while not all(f.exists() for f in ready_files):
            assert time.monotonic() < deadline, "workers did not start"
            assert all(p.poll() is None for p in procs), "a worker died before starting"
            time.sleep(0.02)
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    failures = [err for proc, (_, err) in zip(procs, outputs, strict=True) if proc.returncode]
    assert not failures, "worker(s) failed:\n" + "\n".join(failures)
    return [json.loads(out) for out, _ in outputs]


def counts(registry: Registry) -> dict[str, int]:
    with registry.db.read() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (assets, relations, events)
        }


def registered_events(registry: Registry, namespace: str, name: str) -> list[str]:
    prefix = f"model_version:{namespace}/{name}@"
    with registry.db.read() as conn:
        rows = conn.execute(
            sa.select(events.c.ref).where(events.c.action == "model_version.registered")
        ).scalars()
        return [ref for ref in rows if ref.startswith(prefix)]


def check_all_versions(registry: Registry, results: list[list[int]], total: int) -> None:
    numbers = [n for worker in results for n in worker]
    assert sorted(numbers) == list(range(1, total + 1))
    for worker in results:
        assert worker == sorted(worker), "one process must see its own numbers increase"
    refs = registered_events(registry, "fraud", "churn")
    assert sorted(refs) == sorted(f"model_version:fraud/churn@{n}" for n in numbers)
    page = registry.list_versions("fraud", "churn", limit=total)
    assert [a.version for a in page.items] == [str(n) for n in range(1, total + 1)]


@pytest.mark.slow
def test_processes_get_distinct_consecutive_numbers(registry: Registry, tmp_path: Path) -> None:
    registry.register_version("fraud", "churn", VersionRegistration(model=ModelSpec()))
    results = run_workers(registry, tmp_path, "fraud", "churn")
    total = PROCESSES * PER_PROCESS + 1
    check_all_versions(registry, [[1], *results], total)


@pytest.mark.slow
def test_processes_racing_the_first_registration_create_one_model(
    registry: Registry, tmp_path: Path
) -> None:
    """No model exists yet: every worker's first registration tries to create it."""
    results = run_workers(registry, tmp_path, "fraud", "churn")
    check_all_versions(registry, results, PROCESSES * PER_PROCESS)
    models = registry.list_assets(kind="model", namespace="fraud")
    assert [m.ref for m in models.items] == ["model:fraud/churn"]


def test_failed_registration_leaves_no_gap_and_no_rows(registry: Registry) -> None:
    registry.register_version("fraud", "churn", VersionRegistration())
    before = counts(registry)
    bad = VersionRegistration(
        run={"name": "half-way"},
        datasets=[
            InlineAsset(ref="dataset:finance/a@1", metadata={"row_count": 10}),
            InlineAsset(ref="dataset:finance/b@1", metadata={"row_count": 20}),
            InlineAsset(ref="dataset:finance/c@1", metadata={"row_count": -1}),
        ],
    )
    with pytest.raises(MetadataInvalid) as caught:
        registry.register_version("fraud", "churn", bad)
    assert [e.path for e in caught.value.errors] == ["/datasets/2/metadata/row_count"]
    assert counts(registry) == before
    assert registry.list_assets(kind="dataset").items == []
    again = registry.register_version("fraud", "churn", VersionRegistration())
    assert again.model_version.ref == "model_version:fraud/churn@2"
    assert registered_events(registry, "fraud", "churn") == [
        "model_version:fraud/churn@1", "model_version:fraud/churn@2",
    ]
