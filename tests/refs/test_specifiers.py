"""Overlap of PEP 440 specifier sets, which ``requires:pkg:`` and impact analysis use."""

from __future__ import annotations

import pytest

from modelatlas.specifiers import overlaps


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("<2", ">=1.24", True),
    ("<2", ">=2", False),
    ("<2", ">=2.0", False),
    ("<2", "", True),
    ("!=1.5", "==1.5", False),
    (">1.0", "<1.1", True),
    ("==1.26.*", "<2", True),
    ("==1.26.*", ">=2", False),
    ("~=1.4.5", "<1.5", True),
    ("~=1.4.5", ">=1.5", False),
    ("==2.1.0", "<2", False),
    ("==1.26.4", "<2", True),
    (">=1.24,<2", "<1.20", False),
    (">=3", ">5", True),
    (">2", "<=2", False),
    ("===weird", "<2", False),
    ("not a specifier", "<2", False),
])
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected
