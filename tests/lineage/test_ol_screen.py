"""The C-speed screen in front of check_tree (lineage/openlineage/screen.py ``plainly_safe``):
it may send a safe value on to check_tree, but must never pass one check_tree refuses,
whatever strings hold (escapes, quotes, brackets, backslashes at their ends)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.errors import MalformedBody
from modelatlas.jsonsafe import check_tree
from modelatlas.lineage.openlineage import plainly_safe

# text rich in what the screen parses: quotes, backslashes, brackets, NUL, digits
_TOKENS = ['"', "\\", "[", "]", "{", "}", "\x00", "\x01", " ", "a", "7", "\u00e9", "\ud800",
           "\\u0000", "\\\"", "1234567890123456"]
_TEXT = st.lists(st.sampled_from(_TOKENS), max_size=8).map("".join)
_SCALARS = st.none() | st.booleans() | _TEXT | st.integers(-(2**60), 2**60) | st.floats(
    allow_nan=False, allow_infinity=False)


def _nested(depth: int) -> Any:
    return st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=depth)


def _accepted(value: Any) -> bool:
    try:
        check_tree(value)
    except MalformedBody:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(_nested(40))
def test_the_screen_never_passes_what_check_tree_refuses(value: Any) -> None:
    if plainly_safe([value]):
        assert _accepted([value])


def _chain(levels: int, text: str) -> Any:
    node: Any = text
    for _ in range(levels):
        node = [node, {"k": text}]
    return node


# strings the screen must read past exactly (no look-alikes of NUL or long numbers)
_CLEAN = st.lists(st.sampled_from(['"', "\\", "[", "]", "{", "}", " ", "a", "\u00e9", "\\\""]),
                  max_size=8).map("".join)


@given(st.integers(25, 40), _CLEAN)
def test_depth_is_counted_outside_strings(levels: int, text: str) -> None:
    value = _chain(levels, text + "]]]}}}\\")
    assert plainly_safe([value]) == _accepted([value])
