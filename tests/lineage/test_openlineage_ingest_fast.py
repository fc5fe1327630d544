"""The shortcuts of the OpenLineage ingest path change no verdict: the route's C-speed body
screen (``plain_body``) accepts only what strict decoding accepts, with the same value, and
the one read of a request's namespace settings serves both the custom-field schemas and
the sensitive fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.errors import MalformedBody, MetadataInvalid
from modelatlas.jsonsafe import loads
from modelatlas.lineage.openlineage import dataset_ref, plain_body
from modelatlas.refs import Ref
from modelatlas.registry import Registry


def _strict(body: bytes, depth: int = 32) -> tuple[bool, Any]:
    try:
        return True, loads(body, max_depth=depth)
    except (MalformedBody, ValueError):
        return False, None


def _agrees(body: bytes, depth: int = 32) -> None:
    plain, value = plain_body(body, depth)
    if plain:
        accepted, strict = _strict(body, depth)
        assert accepted and value == strict
        assert json.dumps(value) == json.dumps(strict)  # -0 vs 0, 1 vs 1.0


BODIES = [
    b'{"a": 1, "a": 2}', b'{"a": "x\\":y", "a": 1}', b'{"\\"": 1, "\\"": 2}',
    b'{"a\\\\": 1, "b": "\\\\\\"", "a\\\\": 3}', b'{"a:": 1, "b": {"a": 2}}', b"NaN",
    b"[Infinity]", b'{"a": 1e400}', b"-0", b"[-0.0]", b'"\\ud800"', b'"\\u0000"', b'"a\x01b"',
    b"\xef\xbb\xbf{}", b'{"a": 9007199254740992}', b'{"a": 9007199254740991}', b"[1,]",
    b"[" * 32 + b"]" * 32, b"[" * 33 + b"]" * 33, b"\xff", b'"\xed\xa0\x80"', b"", b'{"a":1}x',
]


@pytest.mark.parametrize("body", BODIES)
def test_the_body_screen_passes_only_what_strict_decoding_accepts(body: bytes) -> None:
    _agrees(body)


def test_the_body_screen_refuses_duplicates_and_lets_events_through() -> None:
    assert plain_body(b'{"a": 1, "b": {"a": 2}}', 32) == (True, {"a": 1, "b": {"a": 2}})
    assert plain_body(b'{"a": 1, "b": 2, "a": 3}', 32) == (False, None)
    assert plain_body(b"[[[]]]", 2) == (False, None)  # the depth is the caller's


_TEXT = st.lists(st.sampled_from(['"', "\\", ":", "[", "{", "}", "a", "\u00e9", "\x00", "7"]),
                 max_size=6).map("".join)
_VALUES = st.recursive(
    st.none() | st.booleans() | _TEXT | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_VALUES, _TEXT, st.booleans())
def test_the_body_screen_agrees_whatever_strings_hold(value: Any, key: str, twice: bool) -> None:
    body = json.dumps({"v": value}).encode()
    if twice:  # the same key once more, written as a client might
        body = body[:-1] + b", " + json.dumps(key).encode() + b": 1, "
        body += json.dumps(key).encode() + b": 2}"
    _agrees(body)


def _event(run: int, namespace: str, output: str) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE", "eventTime": "2024-05-01T10:15:42.123Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"0190b3c8-5d9e-7f3a-9c1e-2f4b6a8d0e{run:02d}"},
        "job": {"namespace": "etl", "name": "nightly"},
        "inputs": [], "outputs": [{"namespace": namespace, "name": output}],
    }


def test_schemas_and_sensitive_fields_of_one_namespace_both_apply(registry: Registry) -> None:
    vault = Ref.parse(str(dataset_ref("s3://vault", "t"))).namespace
    registry.set_sensitive_fields(vault, "dataset", {"fields": ["metadata.location"]})
    registry.set_namespace_schema(vault, "dataset", {
        "type": "object", "required": ["openlineage"]})
    registry.ingest_openlineage(_event(1, "s3://vault", "t"))
    with registry.db.read() as conn:
        sealed = conn.execute(sa.text(
            "SELECT v.field FROM assets a JOIN sensitive_values v ON v.asset_id = a.id "
            "WHERE a.kind = 'dataset' AND a.name = 't'")).scalars().all()
    assert sealed == ["metadata.location"]
    strict = Ref.parse(str(dataset_ref("s3://strict", "t"))).namespace
    registry.set_namespace_schema(strict, "dataset", {"type": "object", "required": ["team"]})
    with pytest.raises(MetadataInvalid):
        registry.ingest_openlineage(_event(2, "s3://strict", "t"))
