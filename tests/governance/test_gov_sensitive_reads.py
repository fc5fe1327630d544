"""Encryption at rest, read side, on one world per backend: what the database holds (no
plaintext in the asset row, its events, the search index or the ciphertexts), who sees the
plaintext (a maintainer, over HTTP too) and who sees ``[redacted]`` on every path (get,
list, versions, search, history, the event feed, lineage, PROV), and that a ciphertext
copied to another row or altered fails to open with a clear error."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.errors import InvalidInput, ModelAtlasError
from modelatlas.governance.crypto import DecryptionFailed
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, AssetUpdate, Registry
from modelatlas.registry.types import VersionRegistration
from worlds import Worlds

SECRET = "zanzibarvault"
LOCATION = f"s3://{SECRET}/transactions"
CONTACT = f"owner@{SECRET}.example"
DATASET = "dataset:fin/tx@1"
VERSION = "model_version:fin/churn@1"
MAE = Principal(kind="user", person="mae")  # maintainer: sees plaintext
CARL = Principal(kind="user", person="carl")  # contributor: redacted
VIC = Principal(kind="user", person="vic")  # viewer: redacted
REDACTED = "[redacted]"


def _build(registry: Registry) -> None:
    for person, role in (("mae", "maintainer"), ("carl", "contributor"), ("vic", "viewer")):
        registry.grant_role("fin", {"principal_type": "user", "principal_name": person,
                                    "role": role})
    registry.set_sensitive_fields("fin", "dataset",
                                  {"fields": ["metadata.location", "custom.contact"]},
                                  principal=MAE)
    registry.set_sensitive_fields("fin", "model_version", {"fields": ["custom.contact"]})
    registry.create_asset(AssetCreate(
        ref=DATASET, description="card transactions", metadata={"location": LOCATION},
        custom={"contact": CONTACT, "team": "risk"}), principal=CARL)
    registry.register_version("fin", "churn", VersionRegistration(
        datasets=[DATASET], custom={"contact": CONTACT}), principal=CARL)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    with world_cache.shared(request.param, _build) as registry:
        yield registry

def _raw(registry: Registry, sql: str) -> list[str]:
    with registry.db.read() as conn:
        return [repr(tuple(row)) for row in conn.execute(sa.text(sql))]


def test_no_table_holds_the_plaintext(world: Registry) -> None:
    dumped = []
    for table in ("assets", "events", "sensitive_values", "idempotency_keys"):
        dumped += _raw(world, f"SELECT * FROM {table}")
    if world.db.dialect == "sqlite":
        dumped += _raw(world, "SELECT * FROM assets_fts")  # contentless: no rows to read...
        found = _raw(world, f"SELECT rowid FROM assets_fts WHERE assets_fts MATCH '{SECRET}'")
        assert found == []  # ...but a match would show the word was indexed
    else:
        dumped += _raw(world, "SELECT search_document::text FROM assets")
    assert dumped and not [row for row in dumped if SECRET in row]
    sealed = _raw(world, "SELECT field, key_id FROM sensitive_values ORDER BY field")
    assert len(sealed) == 3  # the dataset's two fields, the version's contact


def test_the_row_and_its_events_show_the_marker(world: Registry) -> None:
    created = next(e for e in world.history(DATASET).items if e.action == "asset.created")
    assert created.payload["metadata"]["location"] == REDACTED
    assert created.payload["custom"] == {"contact": REDACTED, "team": "risk"}


def test_a_maintainer_reads_the_plaintext(world: Registry) -> None:
    for principal in (MAE, None):  # None: the embedded single user
        asset = world.get_asset(DATASET, principal=principal)
        assert asset.metadata["location"] == LOCATION
        assert asset.custom == {"contact": CONTACT, "team": "risk"}
    listed = {a.ref: a for a in world.list_assets(namespace="fin", principal=MAE).items}
    assert listed[DATASET].custom["contact"] == CONTACT
    assert listed[VERSION].custom["contact"] == CONTACT
    versions = world.list_versions("fin", "churn", principal=MAE).items
    assert versions[0].custom["contact"] == CONTACT


@pytest.mark.parametrize("who", [CARL, VIC], ids=["contributor", "viewer"])
def test_others_see_it_redacted_everywhere(world: Registry, who: Principal) -> None:
    asset = world.get_asset(DATASET, principal=who)
    assert (asset.metadata["location"], asset.custom["contact"]) == (REDACTED, REDACTED)
    assert asset.custom["team"] == "risk"  # what is not sensitive is shown
    shown = [world.list_assets(namespace="fin", principal=who).model_dump_json(),
             world.list_versions("fin", "churn", principal=who).model_dump_json(),
             world.history(DATASET, principal=who).model_dump_json(),
             world.events(principal=who).model_dump_json(),
             world.search("transactions", principal=who).model_dump_json(),
             world.lineage(VERSION, principal=who).model_dump_json(),
             world.export_prov(VERSION, principal=who)]
    assert not [text for text in shown if SECRET in text]
    assert world.search(SECRET, principal=who).items == []
    assert world.search(SECRET).items == []  # not indexed at all, so not for anyone


def test_the_redacted_marker_sent_back_keeps_the_secret(world: Registry) -> None:
    seen = world.get_asset(DATASET, principal=CARL)
    updated = world.update_asset(DATASET, AssetUpdate(custom=seen.custom, description="v2"),
                                 expected_revision=seen.revision, principal=CARL)
    assert updated.custom["contact"] == REDACTED  # the contributor still cannot see it
    assert world.get_asset(DATASET, principal=MAE).custom["contact"] == CONTACT
    changed = world.history(DATASET).items[-1]
    assert changed.action == "asset.updated" and SECRET not in changed.model_dump_json()


def test_only_text_and_custom_fields_can_be_sensitive(world: Registry) -> None:
    for bad in ("metadata.row_count", "metadata.nope", "owners", "custom."):
        with pytest.raises(InvalidInput) as caught:
            world.set_sensitive_fields("fin", "dataset", {"fields": [bad]})
        assert caught.value.errors[0].path == "/fields/0"
    with pytest.raises(InvalidInput, match="digest"):
        world.set_sensitive_fields("fin", "code", {"fields": ["metadata.repository"]})
    assert world.get_sensitive_fields("fin", "dataset", principal=VIC).fields == [
        "custom.contact", "metadata.location"]


def test_maintainer_over_http_sees_plaintext_and_viewer_not(world: Registry) -> None:
    tokens = {p.person: world.create_token({"name": "t"}, principal=p).token
              for p in (MAE, VIC)}
    app = create_app(world.settings.model_copy(update={"auth_required": True}), world)
    with running_server(app) as url:
        answers = {}
        for person, token in tokens.items():
            with httpx.Client(base_url=url + "/api/v1",
                              headers={"Authorization": f"Bearer {token}"}) as http:
                answers[person] = http.get(f"/assets/{DATASET}").json()
                listed = http.get("/assets", params={"namespace": "fin"}).text
                assert (SECRET in listed) is (person == "mae")
        denied = httpx.put(f"{url}/api/v1/namespaces/fin/sensitive-fields/dataset",
                           json={"fields": []},
                           headers={"Authorization": f"Bearer {tokens['vic']}"})
    assert answers["mae"]["metadata"]["location"] == LOCATION
    assert answers["vic"]["metadata"]["location"] == REDACTED
    assert denied.status_code == 403


def test_no_log_line_carries_the_plaintext(world: Registry,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.create_asset(AssetCreate(ref="dataset:fin/logged@1", metadata={"location": LOCATION},
                                   custom={"contact": CONTACT}))
    assert world.get_asset("dataset:fin/logged@1").custom["contact"] == CONTACT
    world.rotate_keys(batch=2)
    assert world.get_asset("dataset:fin/logged@1").metadata["location"] == LOCATION
    assert SECRET not in caplog.text


def _tamper(world: Registry, sql: str) -> None:
    with world.db.write() as conn:
        conn.execute(sa.text(sql))


def test_a_copied_or_altered_ciphertext_does_not_open(world: Registry) -> None:
    victim = world.create_asset(AssetCreate(ref="dataset:fin/victim@1",
                                            custom={"contact": "someone-else"}))
    source = "(SELECT id FROM assets WHERE name = 'tx')"
    target = "(SELECT id FROM assets WHERE name = 'victim')"
    # the other row's ciphertext, nonce and key, moved under the victim's id and field
    _tamper(world, f"""UPDATE sensitive_values SET
        nonce = (SELECT nonce FROM sensitive_values WHERE asset_id = {source}
                 AND field = 'custom.contact'),
        ciphertext = (SELECT ciphertext FROM sensitive_values WHERE asset_id = {source}
                      AND field = 'custom.contact'),
        key_id = (SELECT key_id FROM sensitive_values WHERE asset_id = {source}
                  AND field = 'custom.contact')
        WHERE asset_id = {target}""")
    with pytest.raises(DecryptionFailed) as caught:
        world.get_asset(victim.ref, principal=MAE)
    assert "altered or copied" in caught.value.detail and SECRET not in caught.value.detail
    # a viewer's read does not open anything, so it still answers (redacted)
    assert world.get_asset(victim.ref, principal=VIC).custom["contact"] == REDACTED
    _tamper(world, f"DELETE FROM sensitive_values WHERE asset_id = {target}")  # tidy up


def test_an_altered_ciphertext_is_refused(world: Registry) -> None:
    world.create_asset(AssetCreate(ref="dataset:fin/altered@1", custom={"contact": "x"}))
    row = "(SELECT id FROM assets WHERE name = 'altered')"
    with world.db.write() as conn:
        stored = conn.execute(sa.text(
            f"SELECT ciphertext FROM sensitive_values WHERE asset_id = {row}")).scalar_one()
        flipped = bytes([stored[0] ^ 1]) + bytes(stored[1:])
        conn.execute(sa.text(f"UPDATE sensitive_values SET ciphertext = :c "
                             f"WHERE asset_id = {row}"), {"c": flipped})
    with pytest.raises(ModelAtlasError) as caught:
        world.get_asset("dataset:fin/altered@1")
    assert caught.value.code == "decryption_failed" and caught.value.status == 500
    _tamper(world, f"DELETE FROM sensitive_values WHERE asset_id = {row}")  # tidy up
