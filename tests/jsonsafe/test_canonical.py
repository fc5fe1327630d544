"""The fast canonical path writes exactly the RFC 8785 bytes of the reference."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.jsonsafe import canonical, canonical_reference

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
                      inner, max_size=4),
    max_leaves=20,
)


# Drawing these nested, full-Unicode payloads is what costs (~30 ms each, the comparison
# is cheap): 200 a run, fresh ones every run, rather than 400 (12 s of a CI worker).
@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=6))
def test_fast_path_matches_rfc8785(payload: dict[str, Any]) -> None:
    assert canonical(payload) == canonical_reference(payload)


def test_numbers_where_python_and_ecmascript_differ_use_the_reference() -> None:
    for number in (1.0, -0.0, 1e-5, 1e16, 1e21, 5e-324, 0.1, 123.456, 2**53 - 1):
        assert canonical({"x": number}) == canonical_reference({"x": number})
    assert canonical({"\U0001f600": 1, "\uffff": 2}) == canonical_reference(
        {"\U0001f600": 1, "\uffff": 2})
