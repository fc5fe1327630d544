"""C-speed screens in front of strict JSON checks, for OpenLineage's volumes.

:func:`modelatlas.jsonsafe.check_tree` and :func:`modelatlas.jsonsafe.loads` walk every
string, key and object in Python (a duplicate-key hook per object, a stack entry per
value): for an OpenLineage event that is more than its schema validation and mapping
together. The screens here answer "certainly acceptable" from a few passes of bytes
methods over orjson's output; any other answer only sends the value (or body) to the strict
check, which decides and names the path of what it refuses. So they change no verdict and
no error: they skip the walk when it would find nothing.
"""

from __future__ import annotations

from itertools import accumulate, repeat
from typing import Any

import orjson

from modelatlas.jsonsafe import DEFAULT_MAX_DEPTH, long_digit_run, outside_strings

_QUOTE_AND_BRACKETS = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_QUOTE_AND_COLON = bytes(sorted(set(range(256)) - set(b'":')))
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # open: +1, close: -1 (less 1)
_BOM = b"\xef\xbb\xbf"


def plainly_safe(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> bool:
    """True only when ``check_tree(value, max_depth=max_depth)`` would accept ``value``:
    orjson refuses lone surrogates and integers past 64 bits; NUL is written ``\\u0000``;
    an integer past 2^53 has 16 digits; the depth is the highest running count of open
    brackets outside strings (orjson's output is balanced). A false answer (a string
    holding ``\\u0000`` or 16 digits, say) only sends the value to check_tree."""
    try:
        data = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return False
    if b"\\u0000" in data or long_digit_run(data):
        return False
    brackets = outside_strings(data, _QUOTE_AND_BRACKETS)
    steps = map(int.__sub__, brackets.translate(_STEPS), repeat(1))  # C iterators only
    return max(accumulate(steps), default=0) <= max_depth


def plain_body(body: bytes, max_depth: int) -> tuple[bool, Any]:
    """``(True, value)`` when ``jsonsafe.loads(body, max_depth=max_depth)`` would accept
    ``body`` and return ``value``; ``(False, None)`` sends the body to it for the verdict.

    orjson refuses what strict decoding refuses by itself (invalid UTF-8, ``NaN`` and
    ``Infinity``, lone surrogates, control characters in strings, trailing garbage) and
    decodes the rest to the same values; it keeps the last of duplicate keys silently, so
    the keys are counted (a colon outside strings is a key) in the body and in the value
    re-encoded: a duplicate makes them differ. :func:`plainly_safe` checks the rest."""
    if body.startswith(_BOM):  # json.loads refuses a byte-order mark; orjson may not
        return False, None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False, None
    if not plainly_safe(value, max_depth):
        return False, None
    keys = outside_strings(body, _QUOTE_AND_COLON).count(b":")
    if keys != outside_strings(orjson.dumps(value), _QUOTE_AND_COLON).count(b":"):
        return False, None
    return True, value
