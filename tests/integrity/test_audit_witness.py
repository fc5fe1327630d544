"""Witnesses co-sign checkpoints, on both backends, in-process and over a real server: the
registry keeps only cosignatures it verified, clients can require one, and a witness
refuses to co-sign a rewritten log."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_forge import rewrite_and_resign

from modelatlas.client import Client
from modelatlas.errors import Conflict, NotFound
from modelatlas.integrity.errors import KeyMismatch, LogInconsistent, VerificationFailed
from modelatlas.integrity.note import Signer, Verifier, open_checkpoint
from modelatlas.integrity.trust import TrustStore, open_trusted
from modelatlas.integrity.witness import split_note, with_line
from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate


def _grow(registry: Registry, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        registry.create_asset(AssetCreate(ref=f"dataset:witness/w{i}@1"))


@pytest.fixture
def witness() -> Signer:
    return Signer.generate("witness.example.org")


def _cosign(client: Client, registry: Registry, witness: Signer, state: Path) -> str:
    note = registry.audit_checkpoint().signed_note
    return client.audit.witness(note, witness=witness, state=TrustStore(state),
                                log_key=registry.audit_public_key())


def test_a_cosignature_is_kept_and_required(
    client: Client, registry: Registry, witness: Signer, tmp_path: Path,
) -> None:
    _grow(registry, 4)
    log_key = Verifier.parse(registry.audit_public_key())
    cosigned = _cosign(client, registry, witness, tmp_path / "w")
    served = registry.audit_checkpoint()
    assert served.signed_note == cosigned and len(split_note(cosigned)[1]) == 2
    assert open_checkpoint(cosigned, witness.verifier).size == 4
    assert open_checkpoint(cosigned, log_key).size == 4
    registry.audit_verify()  # other signature lines do not disturb verification

    _grow(registry, 3, start=4)  # size 7 is signed but not co-signed
    client.audit.configure(trust_dir=tmp_path / "c", witness_keys=[str(witness.verifier)])
    assert client.audit.checkpoint().size == 4
    assert client.audit.verify_event(registry.events(after=0, limit=1).items[0].seq)
    plain = Client.__new__(Client)  # the same registry, no witness required: size 7
    plain._init(client._transport)
    plain.audit.configure(trust_dir=tmp_path / "c2")
    assert plain.audit.checkpoint().size == 7


def test_a_checkpoint_without_a_required_cosignature_is_refused(
    client: Client, registry: Registry, witness: Signer, tmp_path: Path,
) -> None:
    _grow(registry, 2)
    client.audit.configure(trust_dir=tmp_path / "c", witness_keys=[str(witness.verifier)])
    with pytest.raises(NotFound, match=r"co-signed by witness\.example\.org"):
        client.audit.check()
    # a server that serves a line under the witness's name with a bad signature
    note = registry.audit_checkpoint().signed_note
    impostor = Signer("witness.example.org", Signer.generate("x").seed)
    forged = with_line(note, impostor.sign(split_note(note)[0]).split("\n")[-2],
                       impostor.verifier)
    with pytest.raises(KeyMismatch, match="not co-signed by witness"):
        open_trusted(forged, Verifier.parse(registry.audit_public_key()), [witness.verifier])


def test_a_witness_refuses_a_rewritten_log(
    client: Client, registry: Registry, witness: Signer, tmp_path: Path,
) -> None:
    _grow(registry, 5)
    first = _cosign(client, registry, witness, tmp_path / "w")
    seq = registry.events(after=0, limit=2).items[1].seq
    rewrite_and_resign(registry, "UPDATE events SET actor = 'mallory' WHERE seq = :s", s=seq)
    _grow(registry, 2, start=5)
    with pytest.raises(LogInconsistent, match="held size 5"):
        _cosign(client, registry, witness, tmp_path / "w")
    origin = open_checkpoint(first, witness.verifier).origin
    held = TrustStore(tmp_path / "w").load(f"witness:{origin}")
    assert held is not None and held.signed_note == first
    assert len(split_note(registry.audit_checkpoint().signed_note)[1]) == 1  # nothing uploaded


def test_the_registry_keeps_only_verified_cosignatures(
    client: Client, registry: Registry, witness: Signer,
) -> None:
    _grow(registry, 3)
    served = registry.audit_checkpoint()
    text = split_note(served.signed_note)[0]
    line = witness.sign(text).split("\n")[-2]
    good = with_line(served.signed_note, line, witness.verifier)
    other = Signer.generate("other.witness")
    with pytest.raises(VerificationFailed, match=r"no signature by other\.witness"):
        client.audit.cosign(good, str(other.verifier))  # the line is not by this key
    with pytest.raises(Conflict, match="differ from the log's own key"):
        client.audit.cosign(good, served.public_key)
    with pytest.raises(VerificationFailed):  # not signed by the registry at all
        client.audit.cosign(witness.sign(text), str(witness.verifier))
    kept = client.audit.cosign(good, str(witness.verifier))
    again = client.audit.cosign(good, str(witness.verifier))  # idempotent: one line per key
    assert kept.signed_note == again.signed_note == registry.audit_checkpoint().signed_note
    assert len(split_note(kept.signed_note)[1]) == 2
