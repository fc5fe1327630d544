"""Data encryption keys on both backends: rotation re-encrypts every value and retires the
old key (the values then open without it), an interrupted rotation resumes and loses
nothing, and a missing or wrong key stops the server at start with a clear error."""

from __future__ import annotations

import base64
import json
import os

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.config import Settings
from modelatlas.errors import Unavailable
from modelatlas.lineage.openlineage import dataset_ref
from modelatlas.refs import Ref
from modelatlas.registry import AssetCreate, Registry

COUNT = 5
VALUES = [f"contact-{i}@hidden.example" for i in range(COUNT)]


def _with_key(settings: Settings, value: str) -> Settings:
    return settings.model_copy(update={"encryption_key": SecretStr(value)})


def _fill(registry: Registry) -> None:
    registry.set_sensitive_fields("fin", "dataset", {"fields": ["custom.contact"]})
    for i in range(COUNT):
        registry.create_asset(AssetCreate(ref=f"dataset:fin/d{i}@1", custom={"contact": VALUES[i]}))


def _contacts(registry: Registry) -> list[str]:
    return [registry.get_asset(f"dataset:fin/d{i}@1").custom["contact"] for i in range(COUNT)]


def _key_ids(registry: Registry) -> set[str]:
    with registry.db.read() as conn:
        return set(conn.execute(sa.text("SELECT key_id FROM sensitive_values")).scalars())


def test_rotation_interrupted_then_resumed_loses_nothing(registry: Registry,
                                                         settings: Settings) -> None:
    _fill(registry)
    first = registry.key_status().current
    partial = registry.rotate_keys(batch=2, max_batches=1)  # stopped after one batch
    assert (partial.reencrypted, partial.remaining, partial.retired_key_ids) == (2, 3, [])
    assert _key_ids(registry) == {first, partial.current}
    assert _contacts(registry) == VALUES  # both keys still open
    seen: list[tuple[int, int]] = []
    resumed = registry.rotate_keys(batch=2, progress=lambda done, left: seen.append((done, left)))
    assert resumed.new_key_id is None and resumed.current == partial.current  # no third key
    assert (resumed.reencrypted, resumed.remaining, resumed.retired_key_ids) == (3, 0, [first])
    assert seen == [(2, 1), (3, 0)]
    # the old key is gone from the file, and every value opens without it, in a new process
    key_file = json.loads((settings.home / "keys" / "data.key").read_text())
    assert set(key_file["keys"]) == {resumed.current}
    assert os.stat(settings.home / "keys" / "data.key").st_mode & 0o077 == 0
    fresh = Registry.open(settings)
    try:
        assert _contacts(fresh) == VALUES
    finally:
        fresh.close()
    rotated = [e for e in registry.events().items if e.action == "keys.rotated"]
    assert [e.payload["reencrypted"] for e in rotated] == [2, 3]
    assert not [e for e in rotated if "@hidden" in json.dumps(e.payload)]


def test_a_missing_key_file_stops_the_start(registry: Registry, settings: Settings) -> None:
    _fill(registry)
    (settings.home / "keys" / "data.key").unlink()
    fresh = Registry.open(settings)
    try:
        with pytest.raises(Unavailable) as caught:
            create_app(settings, fresh)
        assert "missing" in caught.value.detail
        assert caught.value.errors[0].path == "MODELATLAS_ENCRYPTION_KEY_FILE"
        assert not (settings.home / "keys" / "data.key").exists()  # no new key hides it
    finally:
        fresh.close()


def test_keys_from_the_environment(registry: Registry, settings: Settings) -> None:
    old, new = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    env = Registry.open(_with_key(settings, f"old:{old}"))
    try:
        _fill(env)
    finally:
        env.close()
    wrong = Registry.open(_with_key(settings, f"new:{new}"))
    try:
        with pytest.raises(Unavailable, match="lacks: old"):
            wrong.check_data_keys()
    finally:
        wrong.close()
    # the operator puts the new key first and rotates: every value moves to it
    both = Registry.open(_with_key(settings, f"new:{new},old:{old}"))
    try:
        done = both.rotate_keys()
        assert (done.new_key_id, done.current, done.reencrypted) == (None, "new", COUNT)
    finally:
        both.close()
    only_new = Registry.open(_with_key(settings, f"new:{new}"))
    try:
        only_new.check_data_keys()
        assert _contacts(only_new) == VALUES
    finally:
        only_new.close()
    broken = Registry.open(_with_key(settings, "x:not base64!"))
    try:
        with pytest.raises(Unavailable, match="base64"):
            broken.check_data_keys()
    finally:
        broken.close()


def test_the_keys_commands(local_cli: Cli) -> None:
    with local_cli.registry() as registry:
        _fill(registry)
        first = registry.key_status().current
    status = json.loads(local_cli("keys", "status", "--json").stdout)
    assert status["keys"] == [{"key_id": first, "current": True, "rows": COUNT}]
    rotated = local_cli("keys", "rotate", "--batch", "2").stdout
    assert f"{COUNT} values re-encrypted, 0 remaining; retired {first}" in rotated
    after = json.loads(local_cli("keys", "status", "--json").stdout)
    assert [k["rows"] for k in after["keys"]] == [COUNT] and after["current"] != first
    with local_cli.registry() as registry:
        assert _contacts(registry) == VALUES


def _ol_event(run_id: str, output: str) -> dict[str, object]:
    return {
        "eventType": "COMPLETE", "eventTime": "2024-05-01T10:15:42.123Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id}, "job": {"namespace": "etl", "name": "nightly"},
        "inputs": [], "outputs": [{"namespace": "s3://vault", "name": output}],
    }


def test_openlineage_ingestion_seals_new_and_updated_datasets(registry: Registry) -> None:
    """OpenLineage writes dataset rows by its own batched path: a sensitive location is
    sealed there too, on insert and when a later event updates the row."""
    namespace = Ref.parse(str(dataset_ref("s3://vault", "secret.tbl"))).namespace
    registry.set_sensitive_fields(namespace, "dataset", {"fields": ["metadata.location"]})
    registry.ingest_openlineage(_ol_event("0190b3c8-5d9e-7f3a-9c1e-2f4b6a8d0e01", "secret.tbl"))
    ref = str(dataset_ref("s3://vault", "secret.tbl"))
    with registry.db.read() as conn:
        raw = conn.execute(sa.text(
            "SELECT a.meta, v.field FROM assets a JOIN sensitive_values v ON v.asset_id = a.id"
            " WHERE a.name = 'secret.tbl'")).one()
    assert "s3://vault/secret.tbl" not in str(raw[0]) and raw[1] == "metadata.location"
    assert registry.get_asset(ref).metadata["location"] == "s3://vault/secret.tbl"  # local user
    # a second run touches the row (its OpenLineage facets): the sealed value survives
    registry.ingest_openlineage(_ol_event("0190b3c8-5d9e-7f3a-9c1e-2f4b6a8d0e02", "secret.tbl"))
    assert registry.get_asset(ref).metadata["location"] == "s3://vault/secret.tbl"
    assert len(_key_ids(registry)) == 1


def test_the_access_sensitive_command(cli: Cli) -> None:
    shown = cli("access", "sensitive", "fin", "dataset", "--field", "custom.contact")
    assert "fin dataset: sensitive custom.contact" in shown.stdout
    found = json.loads(cli("access", "sensitive", "fin", "dataset", "--json").stdout)
    assert found["fields"] == ["custom.contact"]
    assert "sensitive none" in cli("access", "sensitive", "fin", "dataset", "--clear").stdout
