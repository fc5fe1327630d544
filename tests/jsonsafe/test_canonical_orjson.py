"""The orjson path of canonical JSON writes the RFC 8785 bytes or declines: never others."""

from __future__ import annotations

import enum
import uuid
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.jsonsafe import _orjson_canonical, canonical, canonical_reference

# Strings heavy in what escaping and key order depend on: quotes, backslashes, control
# characters, DEL, U+2028, BMP characters above the surrogates and astral ones.
tricky = st.text(alphabet=st.sampled_from(
    ['"', "\\", "\n", "\x00", "\x01", "\x1f", "\x7f", "a", "é", "\u2028", "\ue000", "\uffff",
     "\U0001f600", "1", "e", "."]), max_size=8) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
           | st.floats(allow_nan=True, allow_infinity=True) | tricky)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner)
    | st.dictionaries(tricky, inner, max_size=4),
    max_leaves=16,
)


def _reference(value: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(tricky, values, max_size=5))
def test_orjson_path_writes_rfc8785_or_declines(payload: dict[str, Any]) -> None:
    fast = _orjson_canonical(payload)
    if fast is not None:
        assert fast == _reference(payload)


def test_every_character_below_u0800_is_escaped_as_rfc8785() -> None:
    text = "".join(map(chr, range(0x800))) + "\u2028\u2029\ufeff\ue000\uffff"
    payload = {text: text, "k": [text]}
    assert _orjson_canonical(payload) == canonical_reference(payload)


def test_what_orjson_writes_its_own_way_goes_elsewhere() -> None:
    class Colour(enum.Enum):
        RED = "red"

    for odd in ((1, 2), uuid.UUID(int=5), Colour.RED, float("nan"), 1.0, 1e16, 0.5,
                2**53, -(2**53), {"\U0001f600": 1, "\uffff": 2}):
        assert _orjson_canonical({"x": odd}) is None
    # declining is not refusing: the other paths still write what the reference writes
    for number in (1.0, 0.5, 1e16):
        assert canonical({"x": number}) == canonical_reference({"x": number})
    assert canonical({"\U0001f600": 1, "\uffff": 2}) == canonical_reference(
        {"\U0001f600": 1, "\uffff": 2})
