"""Strict JSON decoding for everything that crosses a boundary (HTTP bodies, manifests).

Python's ``json`` accepts duplicate keys (last wins), ``NaN``/``Infinity``, lone surrogates
and unbounded nesting; a registry must refuse each, because they make two readers of the
same document disagree. Errors are :class:`MalformedBody` naming the offending path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from modelatlas.errors import FieldError, MalformedBody

DEFAULT_MAX_DEPTH = 32
MAX_SAFE_INT = 2**53 - 1


def _reject_constant(name: str) -> Any:
    raise MalformedBody(
        f"{name} is not valid JSON: use null or a finite number",
        errors=[FieldError("", f"{name} is not allowed")],
    )


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedBody(
                f"duplicate key {key!r} in a JSON object",
                errors=[FieldError(f"/{key}", "duplicate key")],
            )
        result[key] = value
    return result


def _has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def check_tree(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH, path: str = "") -> None:
    """Refuse nesting deeper than ``max_depth`` and strings holding lone surrogates."""
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise MalformedBody(
                    "a string holds a NUL character (U+0000)",
                    errors=[FieldError(where or "/", "NUL character")],
                )
            if _has_lone_surrogate(node):
                raise MalformedBody(
                    "a string holds a lone UTF-16 surrogate",
                    errors=[FieldError(where or "/", "lone surrogate")],
                )
            continue
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_SAFE_INT:
            raise MalformedBody(
                "an integer is outside the interoperable range (RFC 7493: +/- 2^53-1)",
                errors=[FieldError(where or "/", "integer out of range; send it as a string")],
            )
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise MalformedBody(
                f"JSON nested deeper than {max_depth} levels",
                errors=[FieldError(where or "/", f"nesting exceeds {max_depth}")],
            )
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(key, str) and (_has_lone_surrogate(key) or "\x00" in key):
                raise MalformedBody(
                    "an object key holds a lone UTF-16 surrogate or NUL",
                    errors=[FieldError(where or "/", "lone surrogate in key")],
                )
            stack.append((child, f"{where}/{key}", depth + 1))


def loads(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode JSON strictly; raise :class:`MalformedBody` on anything ambiguous."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBody(
                f"body is not valid UTF-8 (byte {exc.start})",
                errors=[FieldError("", "invalid UTF-8")],
            ) from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs_without_duplicates,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise MalformedBody(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            errors=[FieldError("", exc.msg)],
        ) from None
    except RecursionError:
        raise MalformedBody(
            f"JSON nested deeper than {max_depth} levels",
            errors=[FieldError("", "too deep")],
        ) from None
    check_tree(value, max_depth=max_depth)
    return value


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes every digest in ModelAtlas is taken over.

    Three paths, each taken only when it certainly writes the RFC 8785 bytes: orjson with
    sorted keys (:func:`_orjson_canonical`, all in C) for values without floats; the C JSON
    encoder with sorted keys for *plain* values (see :func:`_plain`, a Python walk); the
    pure-Python canonicaliser, which stays the reference for everything else. Both fast
    paths are held to the reference byte for byte with Hypothesis in tests/jsonsafe.
    """
    fast = _orjson_canonical(value)
    if fast is not None:
        return fast
    if _plain(value):
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    return canonical_reference(value)


def canonical_reference(value: Any) -> bytes:
    """RFC 8785 through the ``rfc8785`` package, for any value."""
    import rfc8785

    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError as exc:
        check_tree(value)  # names the offending path when it can
        raise MalformedBody(f"value cannot be canonicalised: {exc}") from None


_SURROGATE = re.compile("[\\ud800-\\udfff]")
_UNSAFE_KEY = re.compile("[^\\u0000-\\ud7ff\\ue000-\\uffff]")  # surrogates, astral planes


def _plain(value: Any) -> bool:
    """True when ``json.dumps(sort_keys=True)`` writes ``value`` exactly as RFC 8785 does:
    strings without lone surrogates (escapes agree), keys in the Basic Multilingual Plane
    (code-point and UTF-16 orders agree), integers within +/- 2^53, and floats whose Python
    repr is the ECMAScript one (not integral, 1e-4 <= |x| < 1e16, where neither side uses
    an exponent)."""
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is str:
            if not node.isascii() and _SURROGATE.search(node):
                return False
        elif kind is dict:
            for key in node:
                if type(key) is not str or (not key.isascii() and _UNSAFE_KEY.search(key)):
                    return False
            stack.extend(node.values())
        elif kind is list:
            stack.extend(node)
        elif kind is bool or node is None:
            continue
        elif kind is int:
            if abs(node) > MAX_SAFE_INT:
                return False
        elif kind is float:
            magnitude = abs(node)
            if not 1e-4 <= magnitude < 1e16 or magnitude.is_integer():
                return False
        else:
            return False  # subclasses, tuples ...: let the reference decide
    return True


# orjson's own output, sorted keys, refusing subclasses, dataclasses and dates it would
# otherwise write its own way (a subclass of str or int, an IntEnum, goes to the walk).
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                   | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME)
_DIGIT_MARKS = bytes.maketrans(b"0123456789", b"\x01" * 10)  # orjson escapes a real \x01
_LONG_NUMBER = b"\x01" * 16  # 2^53 has 16 digits
_ASTRAL = re.compile(b"[\xf0-\xff]")  # the lead byte of a 4-byte UTF-8 sequence


def _orjson_canonical(value: Any) -> bytes | None:
    """RFC 8785 bytes from orjson when certain, else None (the caller tries the other paths).

    orjson writes strings exactly as RFC 8785 does (the same escapes, everything else
    literal; tests/jsonsafe checks every BMP character below U+0800 and more) and refuses
    lone surrogates, non-string keys and integers past 64 bits. What it would write
    differently is refused here, by C-speed passes over its output:

    - floats (``1.0``, ``1e+16``: ECMAScript writes ``1`` and ``10000000000000000``): any
      ``.`` or exponent outside strings; such values go to the walk, which knows floats;
    - integers past +/- 2^53 (RFC 8785 writes them as doubles): any run of 16 digits
      outside strings (2^53 - 1 has 16: a false alarm only costs the walk);
    - keys outside the Basic Multilingual Plane (orjson sorts by code point, RFC 8785 by
      UTF-16 unit): any 4-byte UTF-8 sequence, in values too;
    - types orjson writes natively but JSON does not have (tuples, UUIDs, enums,
      ``orjson.Fragment``; NaN written as ``null``): the output decoded must equal the
      value (``==`` in C; a tuple never equals a list, a UUID never a string).
    """
    try:
        data = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    if not data.isascii() and _ASTRAL.search(data) is not None:
        return None
    if not _plain_numbers(data) or orjson.loads(data) != value:
        return None
    return data


def _plain_numbers(data: bytes) -> bool:
    """Whether every number orjson wrote in ``data`` is an integer of at most 15 digits:
    no ``.``, ``e`` or ``E`` outside strings but those of ``true`` and ``false``, and no
    run of 16 digits there."""
    outside = outside_strings(data)
    return not (b"." in outside or b"E" in outside
                or outside.count(b"e") != outside.count(b"true") + outside.count(b"false")
                or long_digit_run(outside))


def outside_strings(data: bytes, drop: bytes = b"") -> bytes:
    """What lies between the strings of valid JSON ``data``, less the bytes in ``drop``
    (never a quote), in C-speed passes. In valid JSON every backslash starts a two-byte
    escape: dropping escaped backslashes, then escaped quotes, leaves quotes only at the
    ends of strings, so every other piece of a split on quotes lies outside them; dropping
    adjacent quote pairs first (most strings hold nothing kept once ``drop`` is gone)
    keeps the parity of every other quote."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    if drop:
        data = data.translate(None, drop).replace(b'""', b"")
    return b"".join(data.split(b'"')[::2])


def long_digit_run(data: bytes) -> bool:
    """Whether ``data`` holds a run of 16 digits: an integer that may lie past 2^53."""
    return _LONG_NUMBER in data.translate(_DIGIT_MARKS)
