"""The read rule in its two SQL forms keeps the same rows on both backends:
``readable_clause`` (built per call, search and related use it) and the bound-parameter
form suggest's prebuilt statements use, for every shape of :class:`Readable` (empty lists
included: an empty NOT IN is where the backends differ). And the local user's search adds
no condition at all."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from modelatlas.governance.grants import Readable, readable_clause
from modelatlas.registry import AssetCreate, Registry, VersionRegistration
from modelatlas.registry._visibility import (
    BOUND_READABLE,
    bound_visibility,
    readable_in,
    visible_to,
)
from modelatlas.store.tables import assets

# versions are numbered by registration, in this order; a version's model comes with it
ASSETS = [("model_version:a/m@1", ["promoted"]), ("model_version:a/m@2", []),
          ("dataset:b/d@1", []), ("model_version:b/n@1", []),
          ("model_version:c/k@1", ["promoted"]), ("model_version:c/k@2", [])]

SHAPES = {
    "nothing": Readable(),
    "one namespace": Readable(full=frozenset({"a"})),
    "two namespaces": Readable(full=frozenset({"a", "b"})),
    "promoted only": Readable(promoted=frozenset({"a"})),
    "full and promoted": Readable(full=frozenset({"b"}), promoted=frozenset({"c"})),
    "everywhere": Readable(everywhere=True),
    "everywhere but promoted": Readable(everywhere=True, promoted=frozenset({"a", "c"})),
}


def _build_mixed(registry: Registry) -> None:
    for ref, tags in ASSETS:
        kind, rest = ref.split(":", 1)
        if kind == "model_version":
            namespace, name = rest.split("@")[0].split("/")
            registry.register_version(namespace, name, VersionRegistration(tags=tags))
        else:
            registry.create_asset(AssetCreate(ref=ref, tags=tags))


@pytest.fixture
def mixed(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build_mixed)[0]


def _kept(registry: Registry, condition: sa.ColumnElement[bool],
          params: dict[str, object]) -> set[tuple[str, str, str | None]]:
    stmt = sa.select(assets.c.kind, assets.c.namespace, assets.c.version).where(condition)
    with registry.db.read() as conn:
        return {(r.kind, r.namespace, r.version) for r in conn.execute(stmt, params)}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_both_forms_keep_the_same_rows(mixed: Registry, shape: str) -> None:
    readable = SHAPES[shape]
    per_call = _kept(mixed, readable_clause(readable, assets), {})
    bound = bound_visibility(readable)
    assert bound is not None
    prebuilt = _kept(mixed, BOUND_READABLE.assets(assets), dict(bound.params))
    assert prebuilt == per_call
    # and both agree with the Python twin
    with mixed.db.read() as conn:
        rows = conn.execute(sa.select(assets.c.id, assets.c.kind, assets.c.namespace,
                                      assets.c.version)).all()
        tags = {r.id: [t for ref, ts in ASSETS for t in ts if _same(ref, r)] for r in rows}
    twin = {(r.kind, r.namespace, r.version) for r in rows
            if readable.allows(r.namespace, r.kind, tags[r.id])}
    assert per_call == twin


def _same(ref: str, row: sa.Row[tuple[int, str, str, str | None]]) -> bool:
    kind, rest = ref.split(":", 1)
    namespace, rest = rest.split("/", 1)
    version = rest.partition("@")[2] or None
    return (kind, namespace, version) == (row.kind, row.namespace, row.version)


def test_the_local_user_adds_no_condition(registry: Registry) -> None:
    with registry.db.read() as conn:
        readable = readable_in(conn, None)
    assert readable.everything
    assert visible_to(readable) is None and bound_visibility(readable) is None
