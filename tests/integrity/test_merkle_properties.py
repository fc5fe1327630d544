"""Hypothesis: every valid proof verifies; every single mutation of a proof element or the
index is rejected, and so is every mutation of a size that changes the proof's shape; the
fast leaf encoding is RFC 8785 canonical JSON.

A size that keeps the shape can verify (index 0 of 9 or 10 leaves walks the same path, and
RFC 9162 verification does not bind the size): that is why a root is only trusted together
with the size it is signed with, in a checkpoint."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.integrity import merkle
from modelatlas.integrity.errors import ProofInvalid
from modelatlas.integrity.leaf import leaf_data


class _Tree:
    def __init__(self, size: int) -> None:
        self.stored: dict[merkle.NodeKey, bytes] = {}
        self.roots = [merkle.EMPTY_ROOT]
        building = merkle.CompactRange()
        for i in range(size):
            leaf = merkle.leaf_hash(i.to_bytes(4, "big"))
            self.stored[(0, i)] = leaf
            self.stored.update({(lv, ix): h for lv, ix, h in building.append(leaf)})
            self.roots.append(building.root())

    def nodes(self, keys: Collection[merkle.NodeKey]) -> Mapping[merkle.NodeKey, bytes]:
        return {k: self.stored[k] for k in keys if k in self.stored}


def _rejected(call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except ProofInvalid:
        return True
    return False


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
       st.data())
def test_inclusion_proofs_verify_and_every_mutation_fails(case: tuple[int, int],
                                                          data: st.DataObject) -> None:
    size, index = case
    tree = _Tree(size)
    proof = merkle.inclusion_proof(index, size, tree)
    leaf, root = tree.stored[(0, index)], tree.roots[size]
    merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[at] = bytes(b ^ (1 << (bit % 8)) if i == bit // 8 else b
                        for i, b in enumerate(bad[at]))
        assert _rejected(lambda: merkle.verify_inclusion(
            index=index, size=size, leaf=leaf, proof=bad, root=root))
        assert _rejected(lambda: merkle.verify_inclusion(
            index=index, size=size, leaf=leaf, proof=proof[:-1], root=root))
    other = data.draw(st.integers(0, 2 * size).filter(lambda i: i != index))
    assert _rejected(lambda: merkle.verify_inclusion(
        index=other, size=size, leaf=leaf, proof=proof, root=root))
    other_size = data.draw(st.integers(1, 2 * size + 2).filter(lambda s: s != size))
    if index < other_size and len(merkle.inclusion_proof(index, other_size,
                                                         _Tree(other_size))) == len(proof):
        return  # the same shape: only the signed size tells them apart
    assert _rejected(lambda: merkle.verify_inclusion(
        index=index, size=other_size, leaf=leaf, proof=proof, root=root))
    assert _rejected(lambda: merkle.verify_inclusion(
        index=index, size=size, leaf=leaf, proof=[*proof, leaf], root=root))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 70).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
       st.data())
def test_consistency_proofs_verify_and_every_mutation_fails(case: tuple[int, int],
                                                            data: st.DataObject) -> None:
    old, size = case
    tree = _Tree(size)
    proof = merkle.consistency_proof(old, size, tree)
    roots = tree.roots

    def check(a: int, b: int, p: list[bytes]) -> None:
        merkle.verify_consistency(old_size=a, new_size=b, old_root=roots[old],
                                  new_root=roots[size], proof=p)

    check(old, size, proof)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
        assert _rejected(lambda: check(old, size, bad))
        assert _rejected(lambda: check(old, size, proof[1:]))
    other_old = data.draw(st.integers(0, size + 3).filter(lambda s: s != old))
    if not _same_shape(other_old, size, proof):
        assert _rejected(lambda: check(other_old, size, proof))
    other_new = data.draw(st.integers(0, 2 * size + 3).filter(lambda s: s != size))
    if not _same_shape(old, other_new, proof):
        assert _rejected(lambda: check(old, other_new, proof))


def _same_shape(old: int, new: int, proof: list[bytes]) -> bool:
    if not 1 <= old < new:
        return False
    return len(merkle.consistency_proof(old, new, _Tree(new))) == len(proof)


@given(st.integers(1, 2**53 - 1), st.text(), st.text(), st.text(), st.text(), st.text())
def test_the_leaf_is_canonical_json(seq: int, time: str, actor: str, action: str,
                                    target: str, digest: str) -> None:
    fields = {"seq": seq, "time": time, "actor": actor, "action": action, "target": target,
              "payload_sha256": digest}
    try:
        expected = rfc8785.dumps({**fields, "outcome": "ok", "v": 1})
    except rfc8785.CanonicalizationError:
        return  # lone surrogates: not storable text in the first place
    assert leaf_data(**fields) == expected
