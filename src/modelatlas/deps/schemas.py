"""Schema compatibility: what changed between two versions of a schema, whether the change
is allowed under a schema registry's compatibility mode, and which consumers it breaks.

Pure logic over the ``fields`` of a ``schema`` asset's metadata (``SchemaMeta``); no
database. The modes and their meaning are Confluent Schema Registry's ("Schema Evolution
and Compatibility", https://docs.confluent.io/platform/current/schema-registry/fundamentals/
schema-evolution.html, table "Compatibility types"):

=====================  =====================================  ===================  ==========
mode                   changes allowed                        checked against      upgrade
=====================  =====================================  ===================  ==========
BACKWARD               delete fields, add optional fields     latest version       consumers
BACKWARD_TRANSITIVE    delete fields, add optional fields     all earlier versions consumers
FORWARD                add fields, delete optional fields     latest version       producers
FORWARD_TRANSITIVE     add fields, delete optional fields     all earlier versions producers
FULL                   add/delete optional fields             latest version       any order
FULL_TRANSITIVE        add/delete optional fields             all earlier versions any order
NONE                   anything                               nothing              --
=====================  =====================================  ===================  ==========

BACKWARD means a reader using the *new* schema can read data written with the *old* one;
FORWARD means a reader using the *old* schema can read data written with the *new* one.
Each direction is decided the way Avro resolves a writer's schema against a reader's
(Avro specification, "Schema Resolution"): a reader field missing from the written data
needs a default; written fields the reader lacks are ignored; a written type must equal
the reader's or be promotable to it; written nulls need a nullable reader field; a reader
field matches a written one by name or by one of the reader field's ``aliases``.

An *optional* field is one with a default. A nullable field counts as having the default
null, as an Avro ``["null", T]`` union with ``"default": null`` does. Per change, that gives
(ok = compatible, x = incompatible):

=========================  ========  =======  ===========================================
change                     BACKWARD  FORWARD  why
=========================  ========  =======  ===========================================
field added, optional      ok        ok       new readers use the default on old data
field added, required      x         ok       old data has no value and no default
field removed, optional    ok        ok       old readers use the default on new data
field removed, required    ok        x        new data has no value, old readers no default
field renamed (alias)      ok        x [1]    only the new field knows the old name
type widened (int->long)   ok        x        an int reader cannot read longs
type narrowed (long->int)  x         ok       an int reader cannot read old longs
type string <-> bytes      ok        ok       Avro promotes both ways
type incompatible          x         x
nullable -> required       x         ok       old data may hold nulls
required -> nullable       ok        x        new data may hold nulls
field order changed        ok        ok       fields match by name (no change reported)
=========================  ========  =======  ===========================================

[1] ok when the old field had a default: old readers then read the default (Avro's rule;
the value is lost, which :func:`breaks_consumer` reports). A rename without an alias or an
explicit ``renames=`` entry is a removal plus an addition.

Types are free text in ``SchemaMeta``; :data:`TYPE_ALIASES` maps common spellings to Avro's
primitive names (``int64`` -> ``long``), and :data:`PROMOTIONS` is Avro's promotion table.
Types outside the table compare by their lower-cased text. Following Avro, ``float`` is
32-bit and ``long -> float`` counts as widening although it may lose precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from modelatlas.errors import InvalidInput

__all__ = [
    "PROMOTIONS",
    "TYPE_ALIASES",
    "Change",
    "ChangeKind",
    "CompatibilityMode",
    "Field",
    "Incompatibility",
    "breaks_consumer",
    "check_compatibility",
    "check_history",
    "diff",
    "fields_of",
    "normalise_type",
]

TYPE_ALIASES: Mapping[str, str] = {
    **dict.fromkeys(("int", "int32", "integer", "i32"), "int"),
    **dict.fromkeys(("long", "int64", "bigint", "i64"), "long"),
    **dict.fromkeys(("float", "float32", "real", "f32"), "float"),
    **dict.fromkeys(("double", "float64", "f64", "double precision"), "double"),
    **dict.fromkeys(("string", "str", "utf8", "text", "varchar"), "string"),
    **dict.fromkeys(("bytes", "binary", "blob", "bytearray"), "bytes"),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
    **dict.fromkeys(("date", "date32"), "date"),
    **dict.fromkeys(("timestamp", "datetime", "datetime64", "timestamp-millis",
                     "timestamp-micros"), "timestamp"),
}
"""Spellings of a type (lower-cased) -> the canonical name compared."""

PROMOTIONS: Mapping[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
"""Avro's promotions: data written as the key can be read as any type in the value."""


def normalise_type(text: str) -> str:
    """The canonical name of a type: its :data:`TYPE_ALIASES` entry, else its lower-cased,
    stripped text (so unknown types compare by equality)."""
    key = " ".join(text.lower().split())
    return TYPE_ALIASES.get(key, key)


def _promotable(writer: str, reader: str) -> bool:
    return writer == reader or reader in PROMOTIONS.get(writer, frozenset())


class CompatibilityMode(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def checks_backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


# --- fields -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a schema, as compared here. ``type`` is the text as written;
    ``canonical_type`` is what is compared. ``default`` None means no explicit default."""

    name: str
    type: str
    nullable: bool = True
    default: Any = None
    aliases: tuple[str, ...] = ()

    @property
    def canonical_type(self) -> str:
        return normalise_type(self.type)

    @property
    def has_default(self) -> bool:
        """Whether a reader can fill the field in when data lacks it (null counts)."""
        return self.nullable or self.default is not None


def _attr(item: object, key: str, fallback: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(key, fallback)
    return getattr(item, key, fallback)


def _field(item: object, index: int) -> Field:
    """Adapt a ``SchemaField``, a dict or any object with the same attributes. ``default``
    and ``aliases`` are read when present (optional on ``SchemaField``)."""
    name, type_ = _attr(item, "name"), _attr(item, "type")
    for key, value in (("name", name), ("type", type_)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput.at(f"/fields/{index}/{key}", "must be a non-empty string")
    nullable = _attr(item, "nullable", True)
    if not isinstance(nullable, bool):
        raise InvalidInput.at(f"/fields/{index}/nullable", "must be true or false")
    aliases = _attr(item, "aliases") or ()
    if isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
        raise InvalidInput.at(f"/fields/{index}/aliases", "must be a list of field names")
    return Field(name, type_, nullable, _attr(item, "default"), tuple(aliases))


def fields_of(schema: object) -> dict[str, Field]:
    """The fields of a schema by name, in declared order. ``schema`` is a ``SchemaMeta``
    (or anything with ``.fields``), a mapping with a ``"fields"`` list, or the list itself.
    Raises :class:`InvalidInput` for malformed or duplicated fields."""
    items = schema if isinstance(schema, list | tuple) else _attr(schema, "fields")
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        raise InvalidInput.at("/fields", "must be a list of fields")
    found: dict[str, Field] = {}
    for index, item in enumerate(items):
        one = item if isinstance(item, Field) else _field(item, index)
        if one.name in found:
            raise InvalidInput.at(f"/fields/{index}/name", f"duplicate field {one.name!r}")
        found[one.name] = one
    return found


# --- changes ----------------------------------------------------------------------------


class ChangeKind(StrEnum):
    ADDED_NULLABLE = "field_added_nullable"
    ADDED_WITH_DEFAULT = "field_added_with_default"
    ADDED_REQUIRED = "field_added_required"
    REMOVED_OPTIONAL = "field_removed_optional"
    REMOVED_REQUIRED = "field_removed_required"
    RENAMED = "field_renamed"
    TYPE_WIDENED = "type_widened"
    TYPE_NARROWED = "type_narrowed"
    TYPE_INTERCHANGED = "type_interchanged"  # promotable both ways: string <-> bytes
    TYPE_INCOMPATIBLE = "type_incompatible"
    BECAME_REQUIRED = "nullable_to_required"
    BECAME_NULLABLE = "required_to_nullable"


@dataclass(frozen=True)
class Change:
    """One difference between two versions. ``field`` is the old name (the new name for
    an addition); ``old`` and ``new`` are the field on each side, None where absent."""

    kind: ChangeKind
    field: str
    old: Field | None = None
    new: Field | None = None

    @property
    def new_name(self) -> str | None:
        return self.new.name if self.new is not None else None

    def describe(self) -> str:
        """What happened, as the predicate of "field 'x' ..."."""
        old, new, kind = self.old, self.new, self.kind
        if kind is ChangeKind.ADDED_NULLABLE:
            return "added as nullable"
        if kind is ChangeKind.ADDED_WITH_DEFAULT:
            return f"added with default {new.default if new else None!r}"
        if kind is ChangeKind.ADDED_REQUIRED:
            return "added as required without a default"
        if kind is ChangeKind.REMOVED_OPTIONAL:
            return "removed (it had a default)"
        if kind is ChangeKind.REMOVED_REQUIRED:
            return "removed (it was required without a default)"
        if kind is ChangeKind.RENAMED:
            return f"renamed to {self.new_name!r}"
        if kind is ChangeKind.BECAME_REQUIRED:
            return "changed from nullable to required"
        if kind is ChangeKind.BECAME_NULLABLE:
            return "changed from required to nullable"
        verb = {
            ChangeKind.TYPE_WIDENED: "widened",
            ChangeKind.TYPE_NARROWED: "narrowed",
            ChangeKind.TYPE_INTERCHANGED: "changed",
            ChangeKind.TYPE_INCOMPATIBLE: "changed incompatibly",
        }[kind]
        return f"type {verb} from {old.type if old else '?'} to {new.type if new else '?'}"

    def __str__(self) -> str:
        return f"field {self.field!r} {self.describe()}"


def _type_change(old: Field, new: Field) -> ChangeKind | None:
    before, after = old.canonical_type, new.canonical_type
    if before == after:
        return None
    up, down = _promotable(before, after), _promotable(after, before)
    if up and down:
        return ChangeKind.TYPE_INTERCHANGED
    if up:
        return ChangeKind.TYPE_WIDENED
    return ChangeKind.TYPE_NARROWED if down else ChangeKind.TYPE_INCOMPATIBLE


def _match(
    old: Mapping[str, Field], new: Mapping[str, Field], renames: Mapping[str, str]
) -> dict[str, str]:
    """Old name -> new name for every field present on both sides: same name first, then
    explicit ``renames``, then a new field's ``aliases`` naming an unmatched old field."""
    pairs = {name: name for name in old if name in new}
    for before, after in renames.items():
        if before not in old or after not in new or before in new or after in old:
            raise InvalidInput.at(
                f"/renames/{before}",
                f"cannot rename {before!r} to {after!r}: the old schema must have only the "
                "old name and the new schema only the new one",
            )
        pairs[before] = after
    taken = set(pairs.values())
    for field in new.values():
        if field.name in taken:
            continue
        alias = next((a for a in field.aliases if a in old and a not in pairs), None)
        if alias is not None:
            pairs[alias] = field.name
            taken.add(field.name)
    return pairs


def _paired_changes(before: Field, after: Field) -> list[Change]:
    changes = []
    if before.name != after.name:
        changes.append(Change(ChangeKind.RENAMED, before.name, before, after))
    type_kind = _type_change(before, after)
    if type_kind is not None:
        changes.append(Change(type_kind, before.name, before, after))
    if before.nullable != after.nullable:
        kind = ChangeKind.BECAME_NULLABLE if after.nullable else ChangeKind.BECAME_REQUIRED
        changes.append(Change(kind, before.name, before, after))
    return changes


def _added(field: Field) -> Change:
    if field.nullable:
        return Change(ChangeKind.ADDED_NULLABLE, field.name, None, field)
    if field.has_default:
        return Change(ChangeKind.ADDED_WITH_DEFAULT, field.name, None, field)
    return Change(ChangeKind.ADDED_REQUIRED, field.name, None, field)


def diff(old: object, new: object, *, renames: Mapping[str, str] | None = None) -> list[Change]:
    """The changes from ``old`` to ``new``: old fields in their order (removed, renamed,
    retyped, nullability), then added fields in the new order. Field order is ignored.

    A rename is recognised when the new field lists the old name in ``aliases`` or when
    ``renames`` maps the old name to the new one; otherwise it is a removal and an addition.
    """
    before, after = fields_of(old), fields_of(new)
    pairs = _match(before, after, renames or {})
    changes: list[Change] = []
    for name, field in before.items():
        if name in pairs:
            changes += _paired_changes(field, after[pairs[name]])
        else:
            kind = ChangeKind.REMOVED_OPTIONAL if field.has_default else \
                ChangeKind.REMOVED_REQUIRED
            changes.append(Change(kind, name, field, None))
    matched = set(pairs.values())
    changes += [_added(f) for name, f in after.items() if name not in matched]
    return changes


# --- compatibility ----------------------------------------------------------------------

Direction = Literal["backward", "forward", "consumer"]


@dataclass(frozen=True)
class Incompatibility:
    """A change that breaks readers: which field, the change, why, and under which mode
    (None for :func:`breaks_consumer`) and against which earlier version (history checks)."""

    field: str
    change: Change
    reason: str
    direction: Direction
    mode: CompatibilityMode | None = None
    against: str | None = None

    @property
    def message(self) -> str:
        text = f"{self.change}: {self.reason}"
        if self.mode is not None:
            where = f", against {self.against}" if self.against else ""
            text += f" ({self.mode.value}{where})"
        return text

    def __str__(self) -> str:
        return self.message


_NEW_READS_OLD = "readers using the new schema cannot read old data"
_OLD_READS_NEW = "readers using the old schema cannot read new data"


def _backward_reason(change: Change) -> str | None:
    """Why a reader using the new schema cannot read data written with the old one."""
    kind = change.kind
    if kind is ChangeKind.ADDED_REQUIRED:
        return f"{_NEW_READS_OLD}, which lacks the field"
    if kind in (ChangeKind.TYPE_NARROWED, ChangeKind.TYPE_INCOMPATIBLE):
        return _NEW_READS_OLD
    if kind is ChangeKind.BECAME_REQUIRED:
        return f"{_NEW_READS_OLD}, which may hold nulls"
    return None


def _forward_reason(change: Change) -> str | None:
    """Why a reader using the old schema cannot read data written with the new one."""
    kind = change.kind
    if kind is ChangeKind.REMOVED_REQUIRED:
        return f"{_OLD_READS_NEW}, which lacks the field"
    if kind is ChangeKind.RENAMED and change.old is not None and not change.old.has_default:
        return f"{_OLD_READS_NEW}, where the field has a name they do not know"
    if kind in (ChangeKind.TYPE_WIDENED, ChangeKind.TYPE_INCOMPATIBLE):
        return _OLD_READS_NEW
    if kind is ChangeKind.BECAME_NULLABLE:
        return f"{_OLD_READS_NEW}, which may hold nulls"
    return None


def _check(
    changes: Iterable[Change], mode: CompatibilityMode, against: str | None
) -> list[Incompatibility]:
    found: list[Incompatibility] = []
    for change in changes:
        if mode.checks_backward and (reason := _backward_reason(change)):
            found.append(Incompatibility(change.field, change, reason, "backward", mode, against))
        if mode.checks_forward and (reason := _forward_reason(change)):
            found.append(Incompatibility(change.field, change, reason, "forward", mode, against))
    return found


def check_compatibility(
    old: object,
    new: object,
    mode: CompatibilityMode | str,
    *,
    renames: Mapping[str, str] | None = None,
) -> list[Incompatibility]:
    """What stops ``new`` from following ``old`` under ``mode``; empty when compatible.
    A ``*_TRANSITIVE`` mode given one old version checks that version only (see
    :func:`check_history` for all of them)."""
    mode = CompatibilityMode(mode)
    if mode is CompatibilityMode.NONE:
        return []
    return _check(diff(old, new, renames=renames), mode, None)


def check_history(
    versions: Sequence[object],
    new: object,
    mode: CompatibilityMode | str,
    *,
    labels: Sequence[str] | None = None,
    renames: Mapping[str, str] | None = None,
) -> list[Incompatibility]:
    """What stops ``new`` from following ``versions`` (oldest first) under ``mode``, as a
    registry checks a new version of a subject: a transitive mode against every earlier
    version, the others against the latest only. ``labels`` name the versions in messages
    (default ``version 1``, ``version 2`` ...); ``renames`` apply to the versions that still
    have the old name."""
    mode = CompatibilityMode(mode)
    if labels is not None and len(labels) != len(versions):
        raise InvalidInput.at("/labels", "must name each version once")
    names = list(labels) if labels is not None else [f"version {i + 1}" for i in
                                                         range(len(versions))]
    targets = list(zip(versions, names, strict=True))
    if mode is CompatibilityMode.NONE or not targets:
        return []
    if not mode.transitive:
        targets = targets[-1:]
    found: list[Incompatibility] = []
    for version, label in targets:
        present = fields_of(version)
        applicable = {a: b for a, b in (renames or {}).items() if a in present}
        found += _check(diff(version, new, renames=applicable), mode, label)
    return found


# --- consumers --------------------------------------------------------------------------

_CONSUMER_REASONS: Mapping[ChangeKind, str] = {
    ChangeKind.REMOVED_OPTIONAL: "a consumer that reads it gets only its default",
    ChangeKind.REMOVED_REQUIRED: "a consumer that reads it gets no value",
    ChangeKind.RENAMED: "a consumer that reads it by its old name gets no value",
    ChangeKind.TYPE_WIDENED: "a consumer built for {old} may get values that do not fit",
    ChangeKind.TYPE_NARROWED: "a consumer built for {old} now gets values of lower range "
                              "or precision than it was built for",
    ChangeKind.TYPE_INTERCHANGED: "a consumer built for {old} now gets {new} values",
    ChangeKind.TYPE_INCOMPATIBLE: "a consumer built for {old} cannot read {new} values",
    ChangeKind.BECAME_NULLABLE: "a consumer that expects a value may now get nulls",
}
"""The changes that break a consumer of a field it uses. Not listed, so harmless: added
fields (a consumer ignores what it does not read) and nullable -> required (fewer nulls)."""


def breaks_consumer(
    old: object,
    new: object,
    used_fields: set[str] | frozenset[str] | None = None,
    *,
    renames: Mapping[str, str] | None = None,
) -> list[Incompatibility]:
    """How moving a consumer (a model version whose input schema is ``old``) to data of
    schema ``new`` breaks it; empty when unaffected.

    The rule is stricter than FORWARD compatibility, because a model is built for the
    values it saw, not only for decodable ones: a field it uses (by old name; all fields of
    ``old`` when ``used_fields`` is None) breaks it when removed (even with a default, since
    a constant replaces the data), renamed, retyped in any way (widened values may not fit,
    narrowed ones lose range or precision, string <-> bytes changes what it decodes), or
    made nullable. Names in ``used_fields`` that ``old`` lacks are ignored.
    """
    changes = diff(old, new, renames=renames)
    used = set(fields_of(old)) if used_fields is None else set(used_fields)
    found: list[Incompatibility] = []
    for change in changes:
        template = _CONSUMER_REASONS.get(change.kind)
        if template is None or change.field not in used:
            continue
        reason = template.format(
            old=change.old.type if change.old else "?",
            new=change.new.type if change.new else "?",
        )
        found.append(Incompatibility(change.field, change, reason, "consumer"))
    return found


# --- "compatible with version N" constraints ----------------------------------------------

_COMPATIBLE_WITH = re.compile(
    r"^compatible-with\s+(?P<version>\d{1,9})(?:\s*\(\s*(?P<mode>[A-Za-z_]+)\s*\))?$")


@dataclass(frozen=True)
class CompatibleWith:
    """An asset requirement on a schema: any version whose fields readers of ``version``
    can use under ``mode`` (``schema:fraud/transactions compatible-with 3`` is BACKWARD;
    ``compatible-with 3 (full)`` names the mode)."""

    version: str
    mode: CompatibilityMode

    def __str__(self) -> str:
        return f"compatible-with {self.version} ({self.mode.value.lower()})"

    def admits(self, base: object, candidate: object) -> bool:
        """Whether a schema version with ``candidate``'s fields satisfies the constraint,
        ``base`` being the fields of ``version``."""
        return not check_compatibility(base, candidate, self.mode)


def compatible_with(text: str) -> CompatibleWith | None:
    """The constraint ``text`` spells, or None when it is not one (a PEP 440 specifier);
    raises ValueError for ``compatible-with`` with an unknown mode."""
    found = _COMPATIBLE_WITH.match(text.strip())
    if found is None:
        return None
    mode = (found.group("mode") or "backward").upper()
    if mode not in CompatibilityMode.__members__:
        known = ", ".join(m.lower() for m in CompatibilityMode.__members__)
        raise ValueError(f"unknown compatibility mode {found.group('mode')!r}; one of {known}")
    return CompatibleWith(found.group("version"), CompatibilityMode[mode])
