"""The attribute rules on the core operations, on SQLite and PostgreSQL: registered
versions are immutable (for the local user too), a promoted-only namespace shows readers
below maintainer only promoted versions (one by one, in lists and in the event feed, with
pages that stay full), promoting is a maintainer's act, lists and the feed show only what
the caller may read, and a registration's inputs are checked where they live."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelatlas.errors import Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, AssetUpdate, Registry, RelationCreate
from modelatlas.registry.run_types import RunRecord
from modelatlas.registry.types import InlineAsset, VersionRegistration

VIC = Principal(kind="user", person="vic")  # viewer in fraud
CARL = Principal(kind="user", person="carl")  # contributor in fraud
MAE = Principal(kind="user", person="mae")  # maintainer in fraud
OTTO = Principal(kind="user", person="otto")  # admin in other only


def _build_reg(registry: Registry) -> None:
    for name, role in (("vic", "viewer"), ("carl", "contributor"), ("mae", "maintainer")):
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": name,
                                      "role": role})
    registry.grant_role("other", {"principal_type": "user", "principal_name": "otto",
                                  "role": "admin"})


@pytest.fixture
def reg(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build_reg)[0]


def _version(registry: Registry, **changes: object) -> str:
    reg = VersionRegistration(metadata={"framework": "sklearn"}, **changes)  # type: ignore[arg-type]
    return registry.register_version("fraud", "churn", reg).model_version.ref


def test_a_registered_versions_metadata_never_changes_for_anyone(reg: Registry) -> None:
    ref = _version(reg)
    current = reg.get_asset(ref)
    for who in (None, MAE):
        with pytest.raises(Forbidden, match="metadata of a registered version cannot change"):
            reg.update_asset(ref, AssetUpdate(metadata={"framework": "torch"}),
                             expected_revision=current.revision, principal=who)
    with pytest.raises(Forbidden, match="digests"):
        reg.update_asset(ref, AssetUpdate(digests={"sha256": "0" * 64}),
                         expected_revision=current.revision)
    # restating a value changes nothing; the mutable fields stay mutable
    same = reg.update_asset(ref, AssetUpdate(metadata={"framework": "sklearn"},
                                             description="kept"),
                            expected_revision=current.revision, principal=CARL)
    assert same.metadata == current.metadata and same.description == "kept"
    assert reg.get_asset(ref).updated_by == "carl"
    # a dataset is not a registered version: its metadata may change
    reg.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    changed = reg.update_asset("dataset:fraud/txns@1", AssetUpdate(metadata={"row_count": 3}),
                               expected_revision=1, principal=CARL)
    assert changed.metadata["row_count"] == 3


def test_promoting_a_version_is_a_maintainers_act(reg: Registry) -> None:
    ref = _version(reg)
    with pytest.raises(Forbidden) as denied:
        reg.update_asset(ref, AssetUpdate(tags=["promoted"]), expected_revision=1,
                         principal=CARL)
    assert denied.value.problem("/")["action"] == "stage.change"
    with pytest.raises(Forbidden):
        reg.register_version("fraud", "churn", VersionRegistration(tags=["promoted"]),
                             principal=CARL)
    promoted = reg.update_asset(ref, AssetUpdate(tags=["promoted", "gbm"]),
                                expected_revision=1, principal=MAE)
    # other tags stay a contributor's to edit
    reg.update_asset(ref, AssetUpdate(tags=["promoted"]), expected_revision=promoted.revision,
                     principal=CARL)


def test_a_promoted_only_namespace_hides_unpromoted_versions_below_maintainer(
        reg: Registry) -> None:
    reg.set_namespace_policy("fraud", {"contributors_read_promoted_only": True})
    refs = [_version(reg) for _ in range(5)]
    for ref in refs[1::2]:  # versions 2 and 4
        reg.update_asset(ref, AssetUpdate(tags=["promoted"]), expected_revision=1)
    hidden = refs[0]
    with pytest.raises(NotFound):
        reg.get_asset(hidden, principal=CARL)
    with pytest.raises(NotFound):
        reg.history(hidden, principal=VIC)
    with pytest.raises(NotFound):  # an update of what one cannot see: it is not there
        reg.update_asset(hidden, AssetUpdate(description="x"), expected_revision=1,
                         principal=CARL)
    assert reg.get_asset(hidden, principal=MAE).ref == hidden
    page = reg.list_versions("fraud", "churn", limit=1, principal=CARL)
    seen = [a.ref for a in page.items]
    while page.next_cursor:
        page = reg.list_versions("fraud", "churn", limit=1, cursor=page.next_cursor,
                                 principal=CARL)
        seen += [a.ref for a in page.items]
    assert seen == refs[1::2]  # pages stay full: the filter is in the query
    listed = reg.list_assets(kind="model_version", principal=VIC).items
    assert [a.ref for a in listed] == refs[1::2]
    assert len(reg.list_assets(kind="model_version", principal=MAE).items) == 5
    feed = {e.ref for e in reg.events(limit=500, principal=VIC).items}
    assert hidden not in feed and refs[1] in feed


def test_lists_show_only_the_teams_the_caller_may_read(reg: Registry) -> None:
    for i in range(4):
        reg.create_asset(AssetCreate(ref=f"dataset:fraud/d{i}@1"))
        reg.create_asset(AssetCreate(ref=f"dataset:other/o{i}@1"))
    assert {a.namespace for a in reg.list_assets(principal=VIC).items} == {"fraud"}
    assert {a.namespace for a in reg.list_assets(principal=OTTO).items} == {"other"}
    nobody = Principal(kind="user", person="nobody")
    assert reg.list_assets(principal=nobody).items == []
    assert reg.list_assets(namespace="fraud", principal=OTTO).items == []
    first = reg.list_assets(limit=3, principal=OTTO)
    rest = reg.list_assets(limit=3, cursor=first.next_cursor, principal=OTTO)
    assert [a.name for a in first.items + rest.items] == ["o0", "o1", "o2", "o3"]
    assert rest.next_cursor is None
    assert len(reg.list_assets().items) == 8  # the local user: everything


def test_relations_show_only_edges_whose_other_end_is_readable(reg: Registry) -> None:
    reg.create_asset(AssetCreate(ref="dataset:fraud/raw@1"))
    reg.create_asset(AssetCreate(ref="dataset:fraud/clean@1"))
    reg.create_asset(AssetCreate(ref="dataset:other/copy@1"))
    reg.add_relation(RelationCreate(source="dataset:fraud/clean@1", relation="derived_from",
                                    target="dataset:fraud/raw@1"))
    reg.add_relation(RelationCreate(source="dataset:other/copy@1", relation="derived_from",
                                    target="dataset:fraud/raw@1"))
    assert len(reg.relations("dataset:fraud/raw@1").items) == 2
    edges = reg.relations("dataset:fraud/raw@1", principal=VIC).items
    assert [e.source for e in edges] == ["dataset:fraud/clean@1"]
    # linking to what one cannot read is linking to nothing
    with pytest.raises(NotFound) as missing:
        reg.add_relation(RelationCreate(source="dataset:other/copy@1",
                                        relation="derived_from",
                                        target="dataset:fraud/clean@1"), principal=OTTO)
    assert [e.path for e in missing.value.errors] == ["/target"]


def test_the_feed_shows_audit_events_to_maintainers_only(reg: Registry) -> None:
    reg.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    reg.create_asset(AssetCreate(ref="dataset:other/secret@1"))
    with pytest.raises(Forbidden):
        reg.create_asset(AssetCreate(ref="dataset:fraud/nope@1"), principal=VIC)

    def actions(p: Principal) -> list[tuple[str, str]]:
        return [(e.action, e.ref) for e in reg.events(limit=500, principal=p).items]

    assert actions(VIC) == [("asset.created", "dataset:fraud/txns@1")]
    seen_by_mae = actions(MAE)
    assert ("access.denied", "dataset:fraud/nope@1") in seen_by_mae
    assert ("role.granted", "namespace:fraud") in seen_by_mae
    assert not any("other" in ref for _, ref in seen_by_mae)
    assert ("role.granted", "namespace:other") in actions(OTTO)
    assert ("asset.created", "dataset:other/secret@1") in actions(OTTO)
    read_token = Principal(kind="token", person="mae", token_id="t", scopes=frozenset({"read"}))
    assert actions(read_token) == seen_by_mae
    full = reg.events(limit=500).items
    assert len(full) > len(seen_by_mae)  # the local user sees everything


def test_a_registration_checks_its_inputs_where_they_live(reg: Registry) -> None:
    reg.create_asset(AssetCreate(ref="dataset:other/secret@1"))
    with pytest.raises(NotFound) as hidden:
        reg.register_version("fraud", "churn",
                             VersionRegistration(datasets=["dataset:other/secret@1"]),
                             principal=CARL)
    assert [e.path for e in hidden.value.errors] == ["/datasets/0"]
    with pytest.raises(Forbidden) as denied:  # described inline: created in "other"
        reg.register_version("fraud", "churn", VersionRegistration(
            datasets=[InlineAsset(ref="dataset:other/new@1")]), principal=CARL)
    assert denied.value.problem("/")["action"] == "asset.create"
    with pytest.raises(NotFound):
        reg.record_run(RunRecord(ref="run:fraud/r1", datasets=["dataset:other/secret@1"]),
                       principal=CARL)
    # nothing of the refused registrations was written
    assert reg.list_assets(namespace="fraud").items == []
    ok = reg.register_version("fraud", "churn", VersionRegistration(
        datasets=[InlineAsset(ref="dataset:fraud/new@1")]), principal=CARL)
    assert ok.created == ["model:fraud/churn", "dataset:fraud/new@1", "run:fraud/churn-v1"]
    assert ok.model_version.created_by == "carl"
