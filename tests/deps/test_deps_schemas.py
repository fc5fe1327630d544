"""Schema compatibility: every kind of change under every Confluent compatibility mode,
transitive modes over a three-version history, consumer impact, and the messages."""

from __future__ import annotations

from typing import Any

import pytest

from modelatlas.deps.schemas import (
    ChangeKind,
    CompatibilityMode,
    breaks_consumer,
    check_compatibility,
    check_history,
    diff,
    fields_of,
    normalise_type,
)
from modelatlas.errors import InvalidInput
from modelatlas.kinds.schemas import SchemaField, SchemaMeta

M = CompatibilityMode

BASE: list[dict[str, Any]] = [
    {"name": "id", "type": "long", "nullable": False},
    {"name": "amount", "type": "double", "nullable": False},
    {"name": "quantity", "type": "int", "nullable": False},
    {"name": "currency", "type": "string", "nullable": True},
]


def _without(name: str) -> list[dict[str, Any]]:
    return [f for f in BASE if f["name"] != name]


def _with(field: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**f, **changes} if f["name"] == field else f for f in BASE]


# Each case: the changed schema, explicit renames, and the change kinds diff() reports.
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, str], list[ChangeKind]]] = {
    "add_nullable": (
        [*BASE, {"name": "channel", "type": "string"}], {}, [ChangeKind.ADDED_NULLABLE]),
    "add_with_default": (
        [*BASE, {"name": "channel", "type": "string", "nullable": False, "default": "web"}],
        {}, [ChangeKind.ADDED_WITH_DEFAULT]),
    "add_required": (
        [*BASE, {"name": "channel", "type": "string", "nullable": False}],
        {}, [ChangeKind.ADDED_REQUIRED]),
    "remove_nullable": (_without("currency"), {}, [ChangeKind.REMOVED_OPTIONAL]),
    "remove_required": (_without("amount"), {}, [ChangeKind.REMOVED_REQUIRED]),
    "rename_alias": (
        _with("amount", name="amount_eur", aliases=["amount"]), {}, [ChangeKind.RENAMED]),
    "rename_explicit": (
        _with("amount", name="amount_eur"), {"amount": "amount_eur"}, [ChangeKind.RENAMED]),
    "rename_undeclared": (
        _with("amount", name="amount_eur"), {},
        [ChangeKind.REMOVED_REQUIRED, ChangeKind.ADDED_REQUIRED]),
    "widen": (_with("quantity", type="long"), {}, [ChangeKind.TYPE_WIDENED]),
    "narrow": (_with("amount", type="float"), {}, [ChangeKind.TYPE_NARROWED]),
    "string_to_bytes": (_with("currency", type="bytes"), {}, [ChangeKind.TYPE_INTERCHANGED]),
    "incompatible_type": (_with("quantity", type="string"), {}, [ChangeKind.TYPE_INCOMPATIBLE]),
    "nullable_to_required": (
        _with("currency", nullable=False), {}, [ChangeKind.BECAME_REQUIRED]),
    "required_to_nullable": (_with("amount", nullable=True), {}, [ChangeKind.BECAME_NULLABLE]),
    "reorder": (list(reversed(BASE)), {}, []),
}

ok, X = True, False
# Compatible (ok) or not (X) when the case's schema follows BASE, per mode. The transitive
# modes are checked separately below, over a history where they must differ.
EXPECTED = {
    #                         BACKWARD FORWARD FULL NONE
    "add_nullable":           (ok,     ok,     ok,  ok),
    "add_with_default":       (ok,     ok,     ok,  ok),
    "add_required":           (X,      ok,     X,   ok),
    "remove_nullable":        (ok,     ok,     ok,  ok),
    "remove_required":        (ok,     X,      X,   ok),
    "rename_alias":           (ok,     X,      X,   ok),
    "rename_explicit":        (ok,     X,      X,   ok),
    "rename_undeclared":      (X,      X,      X,   ok),
    "widen":                  (ok,     X,      X,   ok),
    "narrow":                 (X,      ok,     X,   ok),
    "string_to_bytes":        (ok,     ok,     ok,  ok),
    "incompatible_type":      (X,      X,      X,   ok),
    "nullable_to_required":   (X,      ok,     X,   ok),
    "required_to_nullable":   (ok,     X,      X,   ok),
    "reorder":                (ok,     ok,     ok,  ok),
}
BASE_MODES = (M.BACKWARD, M.FORWARD, M.FULL, M.NONE)
TRANSITIVE = {M.BACKWARD: M.BACKWARD_TRANSITIVE, M.FORWARD: M.FORWARD_TRANSITIVE,
              M.FULL: M.FULL_TRANSITIVE}

MATRIX = [
    pytest.param(case, mode, expected, id=f"{case}-{mode.value}")
    for case, row in EXPECTED.items()
    for mode, expected in zip(BASE_MODES, row, strict=True)
]


def test_the_tables_cover_every_case_and_change_kind() -> None:
    assert set(EXPECTED) == set(CASES)
    assert {k for _, _, kinds in CASES.values() for k in kinds} == set(ChangeKind)


@pytest.mark.parametrize("case", list(CASES))
def test_diff_classifies_each_change(case: str) -> None:
    changed, renames, kinds = CASES[case]
    assert [c.kind for c in diff(BASE, changed, renames=renames)] == kinds


@pytest.mark.parametrize(("case", "mode", "compatible"), MATRIX)
def test_compatibility_of_each_change_in_each_mode(
    case: str, mode: CompatibilityMode, compatible: bool
) -> None:
    changed, renames, _ = CASES[case]
    found = check_compatibility(BASE, changed, mode, renames=renames)
    assert (found == []) is compatible, [str(i) for i in found]
    # one earlier version: the transitive variant decides the same
    if mode in TRANSITIVE:
        again = check_history([BASE], changed, TRANSITIVE[mode], renames=renames)
        assert (again == []) is compatible


@pytest.mark.parametrize(("case", "mode", "compatible"), MATRIX)
def test_transitive_modes_over_a_three_version_history(
    case: str, mode: CompatibilityMode, compatible: bool
) -> None:
    """v1 = BASE, v2 = the case's change, v3 = v2 plus a nullable field. v3 follows v2 in
    every mode, so only a transitive mode sees the change from v1, and decides as the
    plain mode decided it for v1 -> v2."""
    v2, renames, _ = CASES[case]
    v3 = [*v2, {"name": "note", "type": "string"}]
    assert check_history([BASE, v2], v3, mode, renames=renames) == []
    if mode in TRANSITIVE:
        found = check_history([BASE, v2], v3, TRANSITIVE[mode], renames=renames)
        assert (found == []) is compatible
        assert all(i.against == "version 1" for i in found)


# A consumer built on BASE that reads the changed field (or every field): is it broken?
CONSUMER = {
    "add_nullable": ok, "add_with_default": ok, "add_required": ok,
    "remove_nullable": X, "remove_required": X,
    "rename_alias": X, "rename_explicit": X, "rename_undeclared": X,
    "widen": X, "narrow": X, "string_to_bytes": X, "incompatible_type": X,
    "nullable_to_required": ok, "required_to_nullable": X, "reorder": ok,
}
CHANGED_FIELD = {
    "remove_nullable": "currency", "remove_required": "amount", "rename_alias": "amount",
    "rename_explicit": "amount", "rename_undeclared": "amount", "widen": "quantity",
    "narrow": "amount", "string_to_bytes": "currency", "incompatible_type": "quantity",
    "nullable_to_required": "currency", "required_to_nullable": "amount",
}


@pytest.mark.parametrize("case", list(CASES))
def test_breaks_consumer_that_uses_the_field(case: str) -> None:
    changed, renames, _ = CASES[case]
    assert (breaks_consumer(BASE, changed, renames=renames) == []) is CONSUMER[case]
    field = CHANGED_FIELD.get(case, "id")
    used = breaks_consumer(BASE, changed, {field}, renames=renames)
    assert (used == []) is CONSUMER[case]
    assert all(i.field == field and i.mode is None for i in used)
    # a consumer that reads only an untouched field is never affected
    assert breaks_consumer(BASE, changed, {"id"}, renames=renames) == []


def test_message_for_a_narrowed_type() -> None:
    found = check_compatibility(BASE, _with("amount", type="float"), M.BACKWARD)
    assert [str(i) for i in found] == [
        "field 'amount' type narrowed from double to float: readers using the new schema "
        "cannot read old data (BACKWARD)"
    ]


def test_messages_under_full_name_each_direction() -> None:
    found = check_compatibility(BASE, _with("quantity", type="string"), "FULL")
    assert [(i.direction, i.message) for i in found] == [
        ("backward", "field 'quantity' type changed incompatibly from int to string: "
                     "readers using the new schema cannot read old data (FULL)"),
        ("forward", "field 'quantity' type changed incompatibly from int to string: "
                    "readers using the old schema cannot read new data (FULL)"),
    ]


def test_messages_for_added_required_and_removed_required() -> None:
    added = check_compatibility(BASE, CASES["add_required"][0], M.BACKWARD)
    assert added[0].message == (
        "field 'channel' added as required without a default: readers using the new schema "
        "cannot read old data, which lacks the field (BACKWARD)")
    removed = check_compatibility(BASE, _without("amount"), M.FORWARD)
    assert removed[0].message == (
        "field 'amount' removed (it was required without a default): readers using the old "
        "schema cannot read new data, which lacks the field (FORWARD)")


def test_consumer_message_names_what_the_model_now_gets() -> None:
    [found] = breaks_consumer(BASE, _with("amount", nullable=True), {"amount"})
    assert found.message == ("field 'amount' changed from required to nullable: a consumer "
                             "that expects a value may now get nulls")


def test_transitive_catches_a_field_dropped_and_readded_with_another_type() -> None:
    """Confluent's example: each step is BACKWARD-compatible with its predecessor, but a
    reader of v3 cannot read v1 data."""
    v1 = [{"name": "id", "type": "long", "nullable": False},
          {"name": "score", "type": "double", "nullable": True}]
    v2 = v1[:1]
    v3 = [*v2, {"name": "score", "type": "string", "nullable": True}]
    assert check_history([v1, v2], v3, M.BACKWARD) == []
    found = check_history([v1, v2], v3, M.BACKWARD_TRANSITIVE, labels=["@1", "@2"])
    assert [i.message for i in found] == [
        "field 'score' type changed incompatibly from double to string: readers using the "
        "new schema cannot read old data (BACKWARD_TRANSITIVE, against @1)"
    ]


def test_rename_forward_is_compatible_when_the_old_field_had_a_default() -> None:
    """Avro's rule: an old reader fills the field it cannot find from its default."""
    renamed = _with("currency", name="ccy", aliases=["currency"])
    assert [c.kind for c in diff(BASE, renamed)] == [ChangeKind.RENAMED]
    assert check_compatibility(BASE, renamed, M.FULL) == []
    assert [i.field for i in breaks_consumer(BASE, renamed)] == ["currency"]


def test_rename_with_a_type_change_reports_both() -> None:
    renamed = _with("quantity", name="qty", type="long", aliases=["quantity"])
    changes = diff(BASE, renamed)
    assert [(c.kind, c.field, c.new_name) for c in changes] == [
        (ChangeKind.RENAMED, "quantity", "qty"),
        (ChangeKind.TYPE_WIDENED, "quantity", "qty"),
    ]
    assert check_compatibility(BASE, renamed, M.BACKWARD) == []


def test_schema_meta_and_type_aliases_compare_by_canonical_type() -> None:
    old = SchemaMeta(fields=[SchemaField(name="id", type="int64", nullable=False),
                             SchemaField(name="x", type="float32"),
                             SchemaField(name="flag", type="bool")])
    new = SchemaMeta(fields=[SchemaField(name="flag", type="BOOLEAN"),
                             SchemaField(name="x", type="float64"),
                             SchemaField(name="id", type="long", nullable=False)])
    assert [c.kind for c in diff(old, new)] == [ChangeKind.TYPE_WIDENED]
    assert check_compatibility(old, new, M.BACKWARD) == []
    assert diff(old.model_dump(), new) == diff(old, new)


@pytest.mark.parametrize(("spelling", "canonical"), [
    ("int32", "int"), ("Integer", "int"), ("int64", "long"), ("bigint", "long"),
    ("float32", "float"), ("float64", "double"), ("double precision", "double"),
    ("str", "string"), ("binary", "bytes"), ("bool", "boolean"), ("datetime", "timestamp"),
    ("decimal(10, 2)", "decimal(10, 2)"),
])
def test_normalise_type(spelling: str, canonical: str) -> None:
    assert normalise_type(spelling) == canonical


def test_unknown_types_compare_by_text() -> None:
    old = [{"name": "price", "type": "decimal(10,2)"}]
    assert diff(old, [{"name": "price", "type": "DECIMAL(10,2)"}]) == []
    [change] = diff(old, [{"name": "price", "type": "decimal(12,2)"}])
    assert change.kind is ChangeKind.TYPE_INCOMPATIBLE
    [change] = diff([{"name": "d", "type": "date"}], [{"name": "d", "type": "timestamp"}])
    assert change.kind is ChangeKind.TYPE_INCOMPATIBLE


@pytest.mark.parametrize(("schema", "path"), [
    ([{"name": "a", "type": "int"}, {"name": "a", "type": "long"}], "/fields/1/name"),
    ([{"name": "a"}], "/fields/0/type"),
    ([{"name": "", "type": "int"}], "/fields/0/name"),
    ([{"name": "a", "type": "int", "nullable": "yes"}], "/fields/0/nullable"),
    ([{"name": "a", "type": "int", "aliases": "b"}], "/fields/0/aliases"),
    ({"format": "avro"}, "/fields"),
])
def test_malformed_schemas_are_user_errors(schema: Any, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fields_of(schema)
    assert [e.path for e in caught.value.errors] == [path]


@pytest.mark.parametrize("renames", [
    {"missing": "amount_eur"}, {"amount": "missing"}, {"amount": "id"},
])
def test_renames_must_name_an_old_only_and_a_new_only_field(renames: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        diff(BASE, _with("amount", name="amount_eur"), renames=renames)


def test_history_labels_must_match_versions_and_empty_history_is_compatible() -> None:
    with pytest.raises(InvalidInput):
        check_history([BASE], BASE, M.FULL_TRANSITIVE, labels=["a", "b"])
    assert check_history([], BASE, M.FULL_TRANSITIVE) == []
    with pytest.raises(ValueError):
        check_compatibility(BASE, BASE, "SIDEWAYS")
