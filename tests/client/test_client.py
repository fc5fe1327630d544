"""The SDK's verbs, asserted identically over HTTP and in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelatlas.client import Client
from modelatlas.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    InvalidRef,
    MetadataInvalid,
    ModelAtlasError,
    NotFound,
    PreconditionFailed,
    UnknownKind,
    UnknownRelation,
)
from modelatlas.registry import Asset, Registration, VersionRegistration

DATASET = "dataset:fin/tx@1"


def test_assets_create_get_update(client: Client) -> None:
    created = client.assets.create(
        DATASET, description="card transactions", owners=["ana"], tags=["pii", "pii"],
        metadata={"row_count": 10},
    )
    assert isinstance(created, Asset)
    assert (created.ref, created.revision, created.created_by) == (DATASET, 1, "tester")
    assert created.tags == ["pii"]
    assert client.assets.get(DATASET) == created
    updated = client.assets.update(DATASET, revision=1, metadata={"row_count": 11},
                                   tags=["gold"])
    assert updated.revision == 2
    assert updated.metadata["row_count"] == 11 and updated.tags == ["gold"]
    assert updated.description == "card transactions"  # fields not given stay
    with pytest.raises(PreconditionFailed) as stale:
        client.assets.update(DATASET, revision=1, description="lost update")
    assert [e.path for e in stale.value.errors] == ["/revision"]
    assert client.assets.get(DATASET).description == "card transactions"
    history = client.assets.history(DATASET)
    assert [e.action for e in history.items] == ["asset.created", "asset.updated"]


def test_list_pages_and_iter_follows_cursors(client: Client) -> None:
    refs = [f"dataset:fin/d{i:02d}@1" for i in range(7)]
    for ref in refs:
        client.assets.create(ref, tags=["bulk"])
    client.assets.create("model:fin/other")
    first = client.assets.list(tag="bulk", limit=3)
    assert [a.ref for a in first.items] == refs[:3] and first.next_cursor
    second = client.assets.list(tag="bulk", limit=3, cursor=first.next_cursor)
    assert [a.ref for a in second.items] == refs[3:6]
    assert [a.ref for a in client.assets.iter(kind="dataset", page_size=2)] == refs
    assert [a.ref for a in client.assets.iter(namespace="fin", page_size=100)] == [
        *refs, "model:fin/other",
    ]


def test_register_version_three_ways(client: Client) -> None:
    client.assets.create(DATASET)
    by_kwargs = client.models.register_version(
        "fraud", "churn", datasets=[DATASET], metadata={"metrics": {"auc": 0.91}},
        model={"description": "churn model"},
    )
    assert isinstance(by_kwargs, Registration)
    assert by_kwargs.model_version.ref == "model_version:fraud/churn@1"
    assert by_kwargs.created == ["model:fraud/churn", "run:fraud/churn-v1"]
    by_dict = client.models.register_version("fraud", "churn", {"description": "two"})
    by_model = client.models.register_version(
        "fraud", "churn", VersionRegistration(derived_from=["model_version:fraud/churn@2"]),
        description="three",  # keywords win over the registration's fields
    )
    assert by_dict.model_version.version == "2" and by_model.model_version.version == "3"
    assert by_model.model_version.description == "three"
    versions = client.models.versions("fraud", "churn", limit=2)
    assert [v.version for v in versions.items] == ["1", "2"]
    rest = client.models.versions("fraud", "churn", cursor=versions.next_cursor)
    assert [v.version for v in rest.items] == ["3"] and rest.next_cursor is None
    edges = client.assets.relations("model_version:fraud/churn@3", direction="out")
    assert {(r.relation, r.target) for r in edges.items} == {
        ("version_of", "model:fraud/churn"),
        ("derived_from", "model_version:fraud/churn@2"),
    }


def test_relations_add_filter_remove(client: Client) -> None:
    client.assets.create(DATASET)
    client.assets.create("dataset:fin/raw@1")
    edge = client.relations.add(DATASET, "derived_from", "dataset:fin/raw@1",
                                properties={"step": "dedupe"})
    assert edge.properties == {"step": "dedupe"}
    incoming = client.assets.relations("dataset:fin/raw@1", direction="in",
                                       relation="derived_from")
    assert [r.source for r in incoming.items] == [DATASET]
    assert client.assets.relations(DATASET, relation="used").items == []
    client.relations.remove(DATASET, "derived_from", "dataset:fin/raw@1")
    assert client.assets.relations(DATASET).items == []
    with pytest.raises(NotFound):
        client.relations.remove(DATASET, "derived_from", "dataset:fin/raw@1")


def test_namespace_schema_validates_custom_fields(client: Client) -> None:
    with pytest.raises(NotFound):
        client.namespaces.get_schema("fin", "dataset")
    schema = {"type": "object", "properties": {"team": {"type": "string"}}}
    stored = client.namespaces.set_schema("fin", "dataset", schema)
    assert stored.json_schema == schema and stored.updated_by == "tester"
    assert client.namespaces.get_schema("fin", "dataset").json_schema == schema
    assert client.assets.create(DATASET, custom={"team": "risk"}).custom == {"team": "risk"}
    with pytest.raises(MetadataInvalid) as bad:
        client.assets.create("dataset:fin/other@1", custom={"team": 7})
    assert [e.path for e in bad.value.errors] == ["/custom/team"]


def test_event_feed_reads_after_a_sequence_number(client: Client) -> None:
    client.assets.create(DATASET)
    client.assets.create("dataset:fin/raw@1")
    feed = client.events()
    assert [(e.action, e.ref) for e in feed.items] == [
        ("asset.created", DATASET), ("asset.created", "dataset:fin/raw@1"),
    ]
    assert [e.ref for e in client.events(after=feed.items[0].seq).items] == [
        "dataset:fin/raw@1",
    ]
    assert client.events(after=feed.items[-1].seq).items == []


def test_idempotency_key_retry_writes_once(
    client: Client, event_count: Callable[[], int]
) -> None:
    first = client.assets.create(DATASET, idempotency_key="load-1")
    written = event_count()
    assert client.assets.create(DATASET, idempotency_key="load-1") == first
    assert event_count() == written
    with pytest.raises(Conflict):
        client.assets.create(DATASET, description="changed", idempotency_key="load-1")
    edge = ("dataset:fin/tx@1", "attributed_to", "dataset:fin/tx@1")
    assert client.relations.add(*edge, idempotency_key="e") == client.relations.add(
        *edge, idempotency_key="e"
    )


# (call, expected error, expected field paths): the same on both transports.
ERRORS: list[tuple[str, Callable[[Client], Any], type[ModelAtlasError], list[str]]] = [
    ("malformed-ref", lambda c: c.assets.create("nope"), InvalidRef, ["/ref"]),
    ("unknown-kind", lambda c: c.assets.create("widget:fin/x"), UnknownKind, ["/ref"]),
    ("exists", lambda c: c.assets.create(DATASET), AlreadyExists, ["/ref"]),
    ("nfc", lambda c: c.assets.create("dataset:fin/cafe\u0301@1"), AlreadyExists, ["/ref"]),
    ("bidi", lambda c: c.assets.create("dataset:fin/a\u202eb@1"), InvalidRef, ["/ref"]),
    ("too-long", lambda c: c.assets.create("dataset:fin/" + "x" * 600), InvalidInput, ["/ref"]),
    ("metadata", lambda c: c.assets.create("dataset:fin/m@1", metadata={"row_count": -1}),
     MetadataInvalid, ["/metadata/row_count"]),
    ("get-missing", lambda c: c.assets.get("dataset:fin/none@1"), NotFound, ["/ref"]),
    ("get-malformed", lambda c: c.assets.get("dataset:fin"), InvalidRef, ["/ref"]),
    ("bad-limit", lambda c: c.assets.list(limit=0), InvalidInput, ["/limit"]),
    ("bad-cursor", lambda c: c.assets.list(cursor="!!"), InvalidInput, ["/cursor"]),
    ("bad-direction", lambda c: c.assets.relations(DATASET, direction="up"), InvalidInput,
     ["/direction"]),
    ("relation", lambda c: c.relations.add(DATASET, "likes", DATASET), UnknownRelation,
     ["/relation"]),
    ("ill-typed", lambda c: c.relations.add(DATASET, "produced", DATASET), UnknownRelation,
     ["/source"]),
    ("register-missing",
     lambda c: c.models.register_version("fraud", "m", datasets=["dataset:fin/none@1"]),
     NotFound, ["/datasets/0"]),
    ("register-unknown-field", lambda c: c.models.register_version("fraud", "m", colour=1),
     InvalidInput, ["/colour"]),
    ("register-bad-name", lambda c: c.models.register_version("fraud", "a\u200bb"),
     InvalidRef, ["/name"]),
    ("versions-of-nothing", lambda c: c.models.versions("fraud", "none"), NotFound, ["/ref"]),
]


@pytest.mark.parametrize(("call", "error", "paths"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_are_the_same_exceptions_on_both_transports(
    client: Client,
    event_count: Callable[[], int],
    call: Callable[[Client], Any],
    error: type[ModelAtlasError],
    paths: list[str],
) -> None:
    client.assets.create(DATASET)
    client.assets.create("dataset:fin/caf\u00e9@1")
    before = event_count()
    with pytest.raises(error) as raised:
        call(client)
    assert type(raised.value) is error
    assert [e.path for e in raised.value.errors] == paths
    assert raised.value.detail
    assert event_count() == before
