"""Turning rows into values, and the small pure helpers the service shares."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy.engine import Row

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.kinds import SPECS
from modelatlas.registry.types import Asset, Event, Relation


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def format_ref(kind: str, namespace: str, name: str, version: str) -> str:
    base = f"{kind}:{namespace}/{name}"
    return f"{base}@{version}" if version else base


_ModelT = TypeVar("_ModelT", bound=BaseModel)

# BaseModel's slots, set through their own descriptors: object.__setattr__ looks each one
# up along the class's MRO on every call (40k times for a 10k-node lineage answer), and
# BaseModel.__setattr__ would validate and track the field instead. Shared with the
# lineage wire build (registry/_lineage.py).
SET_DICT = BaseModel.__dict__["__dict__"].__set__
SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[_ModelT], values: dict[str, Any]) -> _ModelT:
    """``cls`` built from values the database already holds in the model's shape, without
    validation: what ``model_construct`` does, minus its per-field default handling, which
    costs 10 us per object (a page of 100 search hits is 1 ms of it). ``values`` must name
    every field; tests/registry/test_rows.py checks the result equals model_construct's."""
    model = cls.__new__(cls)
    SET_DICT(model, values)
    SET_FIELDS_SET(model, set(values))
    SET_EXTRA(model, None)
    SET_PRIVATE(model, None)
    return model


# The columns of ``assets`` an Asset is built from, in the order _asset takes them.
_ASSET_COLUMNS = ("kind", "namespace", "name", "version", "description", "owners", "tags",
                  "meta", "custom", "schema_version", "state", "digests", "revision",
                  "created_at", "created_by", "updated_at", "updated_by")
_by_name = itemgetter(*_ASSET_COLUMNS)
_ASSET_FIELDS = frozenset(Asset.model_fields)


def asset_from_row(row: Row[Any]) -> Asset:
    """Build an :class:`Asset` from a row of ``assets``. Columns are read through
    ``_mapping``: three times faster than attribute access, which shows on a page of hits."""
    return _asset(*_by_name(row._mapping))


def assets_from_page(rows: Sequence[Sequence[Any]], *, json_text: bool) -> list[Asset]:
    """The Assets of a page of search hits: rows holding ``id`` then :data:`_ASSET_COLUMNS`
    by position (search/engine.py ``PAGE_COLUMNS``), the JSON columns still their stored
    text when ``json_text``. :func:`_asset`, inlined into one loop, with one set of field
    names for the page (as the lineage wire build shares one, registry/_lineage.py: every
    field is set, so assigning one later adds nothing to it): a call, a set and a
    function's frame per hit were a third of building a page of 500."""
    loads = orjson.loads if json_text else _as_is
    new, put = Asset.__new__, SET_DICT
    fields_set, extra, private = SET_FIELDS_SET, SET_EXTRA, SET_PRIVATE
    names = set(_ASSET_FIELDS)
    built = []
    # a page in id order holds no sort values: its rows are taken as they are
    whole = not rows or len(rows[0]) == _PAGE_WIDTH
    for (_, kind, namespace, name, version, description, owners, tags, meta, custom,
         schema_version, state, digests, revision, created_at, created_by, updated_at,
         updated_by) in (rows if whole else map(_PAGE_ROW, rows)):
        spec = SPECS[kind]
        meta = loads(meta)
        if schema_version != spec.schema_version:
            meta = spec.upgrade(meta, schema_version)
        model = new(Asset)
        put(model, {
            # format_ref inlined, as in the lineage wire build
            "ref": f"{kind}:{namespace}/{name}@{version}" if version
            else f"{kind}:{namespace}/{name}",
            "kind": kind, "namespace": namespace, "name": name, "version": version or None,
            "description": description, "owners": loads(owners), "tags": loads(tags),
            "metadata": meta, "custom": loads(custom), "state": state,
            "digests": loads(digests), "schema_version": spec.schema_version,
            "revision": revision, "created_at": created_at, "created_by": created_by,
            "updated_at": updated_at, "updated_by": updated_by,
        })
        fields_set(model, names)
        extra(model, None)
        private(model, None)
        built.append(model)
    return built


# ``id`` and the asset columns of a page row, without the sort values that follow them
_PAGE_WIDTH = 1 + len(_ASSET_COLUMNS)
_PAGE_ROW = itemgetter(slice(0, _PAGE_WIDTH))


def _as_is(value: Any) -> Any:
    return value


def asset_from_values(m: Mapping[Any, Any]) -> Asset:
    """Build an :class:`Asset` from the column values of its row, upgrading metadata
    written under an older schema."""
    return _asset(*_by_name(m))


def _asset(kind: str, namespace: str, name: str, version: str, description: str,
           owners: list[str], tags: list[str], meta: dict[str, Any], custom: dict[str, Any],
           schema_version: int, state: str, digests: dict[str, str], revision: int,
           created_at: str, created_by: str, updated_at: str, updated_by: str) -> Asset:
    """The one place an Asset is built from stored values (see :func:`trusted`, inlined:
    this runs once per hit), its metadata upgraded when written under an older schema."""
    spec = SPECS[kind]
    if schema_version != spec.schema_version:
        meta = spec.upgrade(meta, schema_version)
    model = Asset.__new__(Asset)
    SET_DICT(model, {
        "ref": format_ref(kind, namespace, name, version),
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "version": version or None,
        "description": description,
        "owners": owners,
        "tags": tags,
        "metadata": meta,
        "custom": custom,
        "state": state,
        "digests": digests,
        "schema_version": spec.schema_version,
        "revision": revision,
        "created_at": created_at,
        "created_by": created_by,
        "updated_at": updated_at,
        "updated_by": updated_by,
    })
    SET_FIELDS_SET(model, set(_ASSET_FIELDS))
    SET_EXTRA(model, None)
    SET_PRIVATE(model, None)
    return model


def relation_from_row(row: Row[Any]) -> Relation:
    return trusted(Relation, dict(
        source=format_ref(row.s_kind, row.s_namespace, row.s_name, row.s_version),
        relation=row.relation,
        target=format_ref(row.t_kind, row.t_namespace, row.t_name, row.t_version),
        properties=row.properties,
        created_at=row.created_at,
        created_by=row.created_by,
    ))


def event_from_row(row: Row[Any]) -> Event:
    return trusted(Event, dict(
        seq=row.seq,
        time=row.time,
        actor=row.actor,
        action=row.action,
        ref=row.ref,
        payload=orjson.loads(row.payload),
        payload_sha256=row.payload_sha256,
    ))


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = int(base64.urlsafe_b64decode(padded.encode()).decode())
        if not 0 <= value < 2**63:  # every key we page on is a 64-bit integer
            raise ValueError(value)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this registry issued; start again without it",
            errors=[FieldError("/cursor", "unknown cursor")],
        ) from None


def check_limit(limit: int, maximum: int) -> int:
    if not 1 <= limit <= maximum:
        raise InvalidInput.at("/limit", f"must be between 1 and {maximum}")
    return limit


def clean_labels(values: list[str], path: str) -> list[str]:
    """Tags and owners: NFC, trimmed, no control or invisible characters, no duplicates."""
    seen: dict[str, None] = {}
    for index, raw in enumerate(values):
        value = unicodedata.normalize("NFC", raw).strip()
        if not value or len(value) > 200:
            raise InvalidInput.at(f"{path}/{index}", "must be 1-200 characters")
        if any(unicodedata.category(ch)[0] == "C" for ch in value):
            raise InvalidInput.at(f"{path}/{index}", "control or invisible character")
        seen.setdefault(value, None)
    return list(seen)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def content_digest(meta: dict[str, Any], fields: tuple[str, ...]) -> str:
    """A digest of an environment's or code's identity, over canonical sorted content,
    so the same environment declared twice gets the same digest."""
    content = {}
    for name in fields:
        value = meta.get(name)
        if isinstance(value, list):
            value = sorted(str(v) for v in value)
        if value is not None:
            content[name] = value
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
