"""Whole-subtree hashing (what full verification builds per chunk) agrees with the
incremental tree: the edge at every size, folded, is the root the tree has at that size."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from modelatlas.integrity import merkle


def _leaves(count: int, salt: int) -> list[bytes]:
    return [merkle.leaf_hash(f"{salt}/{i}".encode()) for i in range(count)]


@given(st.integers(1, 70), st.integers(0, 10**6))
def test_the_edge_at_every_size_folds_to_the_trees_root(count: int, salt: int) -> None:
    leaves = _leaves(count, salt)
    levels = merkle.perfect_levels(leaves)
    tree = merkle.CompactRange()
    for size, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        edge = merkle.compact_nodes(levels, size)
        assert edge == tree.hashes
        assert merkle.fold(edge) == tree.root()


def test_levels_hold_every_perfect_node_and_no_other() -> None:
    leaves = _leaves(11, 7)
    levels = merkle.perfect_levels(leaves)
    assert [len(level) for level in levels] == [11, 5, 2, 1]
    assert levels[1][0] == merkle.node_hash(leaves[0], leaves[1])
    assert levels[3] == [merkle.node_hash(merkle.node_hash(levels[1][0], levels[1][1]),
                                          merkle.node_hash(levels[1][2], levels[1][3]))]


def test_an_empty_edge_is_the_empty_root() -> None:
    assert merkle.fold([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.perfect_levels([]) == [[]]
