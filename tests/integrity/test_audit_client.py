"""Clients hold the log to account (issue 6, item 2), on both backends, in-process and
over a real server: a client that verified a checkpoint detects a full rewrite and re-sign
of the log, a rollback and a changed key, and keeps the checkpoint it held."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_forge import rewrite_and_resign

from modelatlas.client import Client
from modelatlas.errors import InvalidInput
from modelatlas.integrity.errors import KeyMismatch, LogInconsistent, VerificationFailed
from modelatlas.integrity.note import Signer
from modelatlas.integrity.trust import TrustStore
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate


def _grow(registry: Registry, count: int, start: int = 0) -> list[int]:
    for i in range(start, start + count):
        registry.create_asset(AssetCreate(ref=f"dataset:trust/t{i}@1"))
    return [e.seq for e in registry.events(after=0, limit=500).items]


def _held(client: Client) -> dict[str, object]:
    data: dict[str, object] = json.loads(client.audit.store.path(client.audit.location)
                                         .read_text())
    return data


def test_first_contact_pins_the_key_and_later_contacts_extend(
    client: Client, registry: Registry, tmp_path: Path,
) -> None:
    _grow(registry, 3)
    client.audit.configure(trust_dir=tmp_path / "trust")
    first = client.audit.check()
    assert first.first_use and first.size == 3 and first.previous_size is None
    assert first.public_key == registry.audit_public_key()
    _grow(registry, 4, start=3)
    later = client.audit.check()
    assert (later.size, later.previous_size, later.first_use) == (7, 3, False)
    assert later.root == registry.audit_checkpoint().root
    held = _held(client)
    assert held["public_key"] == registry.audit_public_key()
    assert "\n7\n" in str(held["signed_note"])
    assert client.audit.checkpoint().size == 7


@pytest.mark.parametrize("appended", [0, 3], ids=["same-size", "grown"])
def test_a_rewritten_and_resigned_log_is_detected(
    client: Client, registry: Registry, tmp_path: Path, appended: int,
) -> None:
    """The issue's "done when": the operator edits an old event, rebuilds the tree and
    signs with the log's own key; the server's own verification passes, the client's
    next contact does not, and the client keeps the checkpoint it held."""
    seqs = _grow(registry, 6)
    client.audit.configure(trust_dir=tmp_path / "trust")
    assert client.audit.check().size == 6
    before = _held(client)
    rewrite_and_resign(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s",
                       s=seqs[1])
    _grow(registry, appended, start=100)
    with pytest.raises(LogInconsistent) as caught:
        client.audit.check()
    detail = caught.value.detail
    assert "held size 6 root " + str(before["signed_note"]).split("\n")[2] in detail
    assert f"served size {6 + appended} root" in detail
    with pytest.raises(LogInconsistent):  # every audit call checks, not only check()
        client.audit.verify_event(seqs[0])
    assert _held(client) == before


def test_a_rolled_back_log_is_detected(
    client: Client, registry: Registry, tmp_path: Path,
) -> None:
    seqs = _grow(registry, 6)
    client.audit.configure(trust_dir=tmp_path / "trust")
    client.audit.check()
    rewrite_and_resign(registry, "DELETE FROM events WHERE seq > :s", s=seqs[3])
    with pytest.raises(LogInconsistent, match="cannot prove"):
        client.audit.checkpoint()
    assert "\n6\n" in str(_held(client)["signed_note"])


def test_a_new_signing_key_is_refused(
    client: Client, registry: Registry, settings_home: Path, tmp_path: Path,
) -> None:
    _grow(registry, 3)
    client.audit.configure(trust_dir=tmp_path / "trust")
    pinned = client.audit.check().public_key
    # the operator replaces the key and re-signs (the old key's heads are dropped)
    key_file = settings_home / "keys" / "audit.key"
    key_file.write_text(f"{Signer.generate(Signer.parse(key_file.read_text()).name)}\n")
    _forget_keys(client, registry)
    rewrite_and_resign(registry)
    assert registry.audit_public_key() != pinned
    with pytest.raises(KeyMismatch, match="not signed by the pinned key"):
        client.audit.check()
    assert _held(client)["public_key"] == pinned


def test_a_configured_key_must_match_the_pinned_one(
    client: Client, registry: Registry, tmp_path: Path,
) -> None:
    _grow(registry, 2)
    client.audit.configure(trust_dir=tmp_path / "trust")
    client.audit.check()
    other = str(Signer.generate("someone.else").verifier)
    client.audit.configure(trust_dir=tmp_path / "trust", public_key=other)
    with pytest.raises(KeyMismatch, match="differs from the key pinned"):
        client.audit.check()
    fresh = tmp_path / "fresh"  # a key configured before first use is pinned, not the served
    client.audit.configure(trust_dir=fresh, public_key=other)
    with pytest.raises(KeyMismatch, match="not signed by the pinned key"):
        client.audit.check()
    assert not TrustStore(fresh).path(client.audit.location).exists()


def test_verify_event_checks_every_field_against_the_checked_head(
    client: Client, registry: Registry, tmp_path: Path,
) -> None:
    seqs = _grow(registry, 5)
    client.audit.configure(trust_dir=tmp_path / "trust")
    event = client.audit.verify_event(seqs[2])
    assert event.seq == seqs[2] and event.ref == "dataset:trust/t2@1"
    proof = client.audit.inclusion_proof(seqs[2])
    assert proof.leaf_index == 2
    assert client.audit.consistency_proof(2, 5).to_size == 5
    with pytest.raises(InvalidInput):
        client.audit.consistency_proof(4, 9)
    # the event row alone changed (tree untouched): its proof no longer holds
    with registry.db.writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
            conn.exec_driver_sql(f"UPDATE events SET actor = 'mallory' WHERE seq = {seqs[1]}")
            conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER events_no_update")
            conn.exec_driver_sql(f"UPDATE events SET actor = 'mallory' WHERE seq = {seqs[1]}")
    with pytest.raises(VerificationFailed):
        client.audit.verify_event(seqs[1])
    assert client.audit.verify_event(seqs[3]).seq == seqs[3]


def _forget_keys(client: Client, registry: Registry) -> None:
    """Registries cache their signing key for the life of the process: a key swapped on
    disk takes effect at the next start, which these objects stand in for."""
    registry.__dict__.pop("_audit_signer_cache", None)
    local = getattr(client._transport, "registry", None)
    if local is not None:
        local.__dict__.pop("_audit_signer_cache", None)


@pytest.fixture
def settings_home(registry: Registry) -> Path:
    return registry.settings.home
