"""The artifact store over a real server on both backends: bytes uploaded for an artifact
the metadata lists are checked (SHA-256, size, limit), kept by digest under the artifact
directory, and served as an attachment that no browser renders; rights are version.register
to upload and asset.read to download; the SDK and CLI push and pull through the same path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from cli_harness import Cli
from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry, VersionRegistration
from modelatlas.store.tables import asset_pulls

API = "/api/v1"
DATA = b"\x80\x04pickle-looking bytes, never loaded" * 50
SHA = hashlib.sha256(DATA).hexdigest()
REF = "model_version:fraud/churn@1"
OCTETS = {"content-type": "application/octet-stream"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small artifact limit (the registry and the server read the same settings)."""
    return settings.model_copy(update={"max_artifact_bytes": 4096})


def _register(registry: Registry, namespace: str = "fraud", sha: str = SHA) -> None:
    registry.register_version(namespace, "churn", VersionRegistration(metadata={"artifacts": [
        {"uri": "s3://m/churn/model.pkl", "sha256": sha, "size": len(DATA),
         "name": "modèle \"v1\".pkl"},
        {"uri": "s3://m/churn/big.bin", "sha256": "cd" * 32, "size": 10**6}]}))


def test_upload_then_download_as_an_attachment(settings: Settings, registry: Registry,
                                               tmp_path: Path) -> None:
    _register(registry)
    quoted = "mod%C3%A8le%20%22v1%22.pkl"
    with running_server(create_app(settings, registry)) as url, \
            httpx.Client(base_url=url + API) as http:
        wrong = http.put(f"/artifacts/{REF}/{quoted}", content=DATA[:-1] + b"X",
                         headers=OCTETS)
        form = http.put(f"/artifacts/{REF}/{quoted}", content=b"a=b",
                        headers={"content-type": "application/x-www-form-urlencoded"})
        big = http.put(f"/artifacts/{REF}/big.bin", content=b"x", headers=OCTETS)
        missing = http.get(f"/artifacts/{REF}/{quoted}")
        put = http.put(f"/artifacts/{REF}/{quoted}", content=DATA, headers=OCTETS)
        got = http.get(f"/artifacts/{REF}/{quoted}")
    assert (wrong.status_code, wrong.json()["errors"][0]["path"]) == (422, "body")
    assert form.status_code == 400 and missing.status_code == 404
    assert big.status_code == 413, big.text
    assert put.status_code == 201, put.text
    assert put.json()["sha256"] == SHA and put.json()["stored_by"] == "tester"
    assert got.content == DATA
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == (
        f"attachment; filename=\"modele _v1_.pkl\"; filename*=UTF-8''{quoted}")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.headers["cache-control"] == "private"
    stored = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert stored == [tmp_path / "artifacts" / "sha256" / SHA[:2] / SHA[2:]]  # no temp left
    event = registry.events().items[-1]
    assert (event.action, event.ref, event.payload["sha256"]) == ("artifact.stored", REF, SHA)


def test_rights_and_digests_are_not_capabilities(settings: Settings,
                                                 registry: Registry) -> None:
    """Viewers download, contributors upload, other teams see 404; and listing a digest
    someone else uploaded in your own version does not let you download it."""
    _register(registry)
    _register(registry, "other")
    registry.store_artifact(REF, "modèle \"v1\".pkl", [DATA[:100], DATA[100:]])
    for ns, person, role in (("fraud", "vic", "viewer"), ("other", "otto", "admin")):
        registry.grant_role(ns, {"principal_type": "user", "principal_name": person,
                                 "role": role})
    vic, otto = (Principal(kind="user", person=p) for p in ("vic", "otto"))
    stored, _ = registry.open_artifact(REF, "modèle \"v1\".pkl", principal=vic)
    assert stored.size == len(DATA)
    with registry.db.read() as conn:  # a download is a pull: vic's team hears of a sunset
        assert [tuple(r) for r in conn.execute(
            sa.select(asset_pulls.c.person, asset_pulls.c.pulls))] == [("vic", 1)]
    with pytest.raises(Forbidden, match=r"version\.register"):
        registry.store_artifact(REF, "modèle \"v1\".pkl", [DATA], principal=vic)
    with pytest.raises(NotFound):
        registry.open_artifact(REF, "modèle \"v1\".pkl", principal=otto)
    with pytest.raises(NotFound, match=r"no bytes"):
        registry.open_artifact("model_version:other/churn@1", "modèle \"v1\".pkl",
                               principal=otto)
    with pytest.raises(InvalidInput):
        registry.open_artifact("dataset:fraud/x@1", "a")


def test_sdk_over_http(settings: Settings, registry: Registry, tmp_path: Path) -> None:
    _register(registry)
    source, out = tmp_path / "model.pkl", tmp_path / "out"
    source.write_bytes(DATA)
    out.mkdir()
    with running_server(create_app(settings, registry)) as url, Client(url) as client:
        stored = client.artifacts.upload(REF, "modèle \"v1\".pkl", source)
        written = client.artifacts.download(REF, "modèle \"v1\".pkl", out)
        with pytest.raises(InvalidInput):  # refused before it could pick a local path
            client.artifacts.download(REF, "..", out)
    assert stored.sha256 == SHA and written.read_bytes() == DATA
    assert written == out / "modèle \"v1\".pkl"
    assert sorted(p.name for p in out.iterdir()) == [written.name]  # no partial file left


def test_cli_push_and_pull(cli: Cli, tmp_path: Path) -> None:
    with cli.registry() as registry:
        _register(registry)
    source = tmp_path / "model.pkl"
    source.write_bytes(DATA)
    pushed = cli("artifacts", "push", REF, str(source), "--name", "modèle \"v1\".pkl")
    assert SHA in pushed.stdout
    pulled = cli("artifacts", "pull", REF, "modèle \"v1\".pkl", "--to", str(tmp_path / "x"))
    assert (tmp_path / "x").read_bytes() == DATA and "x" in pulled.stdout
