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

from typing import Any

import orjson

from modelatlas.jsonsafe import DEFAULT_MAX_DEPTH, long_digit_run, outside_strings

# Outside strings, the screen keeps brackets, digits and commas (which keep two numbers'
# digits apart; dropping a number's sign, point or exponent only joins its digits, which
# can only raise a false alarm).
_DROP_BUT_NUMBERS_AND_BRACKETS = bytes(sorted(set(range(256)) - set(b'"[]{},0123456789')))
_NUMBERS = b",0123456789"
_QUOTE_AND_COLON = bytes(sorted(set(range(256)) - set(b'":')))
_ONE_BRACKET = bytes.maketrans(b"[{]}", b"(())")
_BOM = b"\xef\xbb\xbf"


def plainly_safe(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> bool:
    """True only when ``check_tree(value, max_depth=max_depth)`` would accept ``value``:
    orjson refuses lone surrogates and integers past 64 bits; NUL is written ``\\u0000``;
    an integer past 2^53 has 16 digits outside strings; the depth is that of the brackets
    outside strings (orjson's output is balanced and well nested). A false answer (a
    string holding ``\\u0000``, an integer of 16 digits, say) only sends the value to
    check_tree."""
    try:
        data = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return False
    if b"\\u0000" in data:
        return False
    # integers lie outside strings: the digit runs of a batch's few numbers, not of its
    # megabytes of text (a tenth of the screen's time when it translated them all)
    outside = outside_strings(data, _DROP_BUT_NUMBERS_AND_BRACKETS)
    if long_digit_run(outside):
        return False
    return _depth_at_most(outside.translate(None, _NUMBERS), max_depth)


def _depth_at_most(brackets: bytes, max_depth: int) -> bool:
    """Whether the balanced, well-nested ``brackets`` nest at most ``max_depth`` deep.
    One ``replace`` of ``()`` removes exactly the innermost pairs (the pairs it makes by
    removing them are left for the next pass): the depth is the number of passes that
    empty the string. A few C passes over shrinking bytes, where a running count over
    every bracket (``accumulate``) made an int per bracket: 40% of the screen."""
    brackets = brackets.translate(_ONE_BRACKET)
    for _ in range(max_depth):
        if not brackets:
            return True
        brackets = brackets.replace(b"()", b"")
    return not brackets


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
