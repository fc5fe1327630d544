"""The published transparency-dev/merkle vectors (tests/integrity/vectors/README.md): every
valid proof verifies, every corrupted one is rejected; the RFC 6962 reference tree's node
and root hashes come out of our hashing, our incremental builder and our proof builder."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pytest

from modelatlas.integrity import merkle
from modelatlas.integrity.errors import ProofInvalid

VECTORS = Path(__file__).parent / "vectors"
INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))
REFERENCE = json.loads((VECTORS / "rfc6962_reference_tree.json").read_text())


def _b(text: str) -> bytes:
    return base64.b64decode(text)


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_all_vectors_are_present() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())

    def verify() -> None:
        merkle.verify_inclusion(index=case["leafIdx"], size=case["treeSize"],
                                leaf=_b(case["leafHash"]),
                                proof=[_b(p) for p in case["proof"] or []],
                                root=_b(case["root"]))

    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())

    def verify() -> None:
        merkle.verify_consistency(old_size=case["size1"], new_size=case["size2"],
                                  old_root=_b(case["root1"]), new_root=_b(case["root2"]),
                                  proof=[_b(p) for p in case["proof"] or []])

    if case["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify()
    else:
        verify()


class _Nodes:
    def __init__(self) -> None:
        self.stored: dict[merkle.NodeKey, bytes] = {}

    def nodes(self, keys: Collection[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        return {k: self.stored[k] for k in keys if k in self.stored}


def _reference_tree() -> tuple[_Nodes, list[bytes]]:
    store, tree, roots = _Nodes(), merkle.CompactRange(), [merkle.EMPTY_ROOT]
    for i, data in enumerate(REFERENCE["leaf_inputs_hex"]):
        leaf = merkle.leaf_hash(bytes.fromhex(data))
        store.stored[(0, i)] = leaf
        for level, idx, node in tree.append(leaf):
            store.stored[(level, idx)] = node
        roots.append(tree.root())
    return store, roots


def test_reference_roots_from_the_incremental_builder() -> None:
    _, roots = _reference_tree()
    assert [r.hex() for r in roots] == REFERENCE["root_hashes_by_tree_size_hex"]
    assert merkle.EMPTY_ROOT.hex() == REFERENCE["empty_root_hex"]


def test_reference_nodes_by_level() -> None:
    store, _ = _reference_tree()
    for level, hashes in enumerate(REFERENCE["node_hashes_by_level_hex"]):
        for idx, expected in enumerate(hashes):
            assert store.stored[(level, idx)].hex() == expected


def test_reference_proofs_from_stored_nodes() -> None:
    store, roots = _reference_tree()
    for size in range(1, 9):
        assert merkle.root(size, store) == roots[size]
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, store)
            merkle.verify_inclusion(index=index, size=size, leaf=store.stored[(0, index)],
                                    proof=proof, root=roots[size])
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, size, store)
            merkle.verify_consistency(old_size=old, new_size=size, old_root=roots[old],
                                      new_root=roots[size], proof=proof)
