"""Recording a run that produced no model version, with links to what it used: one
transaction, idempotent, and bad input answered 4xx naming the field (both backends; the
HTTP cases through a real server)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from modelatlas.errors import Conflict, InvalidInput, NotFound
from modelatlas.registry import AssetCreate, InlineAsset, Registry, RunRecord

ENV = InlineAsset(ref="environment:fraud/py311", metadata={"python": "3.11.9"})
CODE = InlineAsset(ref="code:fraud/trainer@abc1234", metadata={"commit": "abc1234"})


def _record(**changes: object) -> RunRecord:
    fields: dict[str, object] = {
        "ref": "run:fraud/churn-failed-1", "description": "diverged",
        "metadata": {"status": "failed", "parameters": {"alpha": 0.1}},
        "custom": {"capture": {"error": "ValueError: nan"}},
        "datasets": ["dataset:finance/tx@3",
                     InlineAsset(ref="dataset:fraud/rows@9f86d081884c",
                                 metadata={"digest": "sha256:" + "ab" * 32})],
        "code": CODE, "environment": ENV,
    }
    return RunRecord.model_validate({**fields, **changes})


def _used(registry: Registry, ref: str) -> set[str]:
    page = registry.relations(ref, direction="out", relation="used")
    return {r.target for r in page.items}


def test_a_run_is_linked_to_existing_and_inline_inputs(registry: Registry) -> None:
    registry.create_asset(_spec("dataset:finance/tx@3"))
    done = registry.record_run(_record())
    assert done.run.ref == "run:fraud/churn-failed-1"
    assert done.run.metadata["status"] == "failed"
    assert done.created == ["dataset:fraud/rows@9f86d081884c", "code:fraud/trainer@abc1234",
                            "environment:fraud/py311"]
    assert {(r.relation, r.target) for r in done.relations} == {
        ("used", "dataset:finance/tx@3"), ("used", "dataset:fraud/rows@9f86d081884c"),
        ("used", "code:fraud/trainer@abc1234"), ("used", "environment:fraud/py311")}
    assert _used(registry, done.run.ref) == {r.target for r in done.relations}
    # a second failed run on the same commit and environment links, not re-creates, them
    again = registry.record_run(_record(ref="run:fraud/churn-failed-2"))
    assert again.created == []
    assert _used(registry, "run:fraud/churn-failed-2") == _used(registry, done.run.ref)


def _spec(ref: str) -> AssetCreate:
    return AssetCreate(ref=ref)


def test_a_retry_with_the_same_key_records_once(
    registry: Registry, event_count: Callable[[], int]
) -> None:
    registry.create_asset(_spec("dataset:finance/tx@3"))
    first = registry.record_run(_record(), idempotency_key="run-1")
    before = event_count()
    again = registry.record_run(_record(), idempotency_key="run-1")
    assert again == first
    assert event_count() == before
    with pytest.raises(Conflict):
        registry.record_run(_record(description="other"), idempotency_key="run-1")


def test_a_missing_input_records_nothing(
    registry: Registry, event_count: Callable[[], int]
) -> None:
    before = event_count()  # dataset:finance/tx@3 does not exist
    with pytest.raises(NotFound) as caught:
        registry.record_run(_record())
    assert [e.path for e in caught.value.errors] == ["/datasets/0"]
    assert event_count() == before
    for ref in ("run:fraud/churn-failed-1", "dataset:fraud/rows@9f86d081884c",
                "code:fraud/trainer@abc1234", "environment:fraud/py311"):
        with pytest.raises(NotFound):
            registry.get_asset(ref)


@pytest.mark.parametrize(("changes", "path"), [
    ({"ref": "dataset:fraud/rows@1"}, "/ref"),
    ({"ref": "run:fraud/churn@1"}, "/ref"),
    ({"datasets": ["model:fraud/churn"]}, "/datasets/0"),
    ({"code": "environment:fraud/py311"}, "/code"),
    ({"metadata": {"status": "exploded"}}, "/metadata/status"),
])
def test_bad_input_names_the_field(registry: Registry, changes: dict[str, object],
                                   path: str) -> None:
    registry.create_asset(_spec("dataset:finance/tx@3"))
    with pytest.raises(InvalidInput) as caught:
        registry.record_run(_record(**changes))
    assert path in [e.path for e in caught.value.errors]


def test_http_answers_201_and_422_naming_the_field(base_url: str, registry: Registry) -> None:
    registry.create_asset(_spec("dataset:finance/tx@3"))
    body = _record().model_dump(mode="json")
    with httpx.Client(base_url=f"{base_url}/api/v1") as http:
        made = http.post("/runs", json=body, headers={"Idempotency-Key": "k1"})
        assert made.status_code == 201, made.text
        assert made.headers["location"].endswith("/assets/run:fraud/churn-failed-1")
        assert http.post("/runs", json=body, headers={"Idempotency-Key": "k1"}).json() \
            == made.json()
        bad = http.post("/runs", json={**body, "ref": "run:fraud/x", "datasets": [7]})
        assert bad.status_code == 422
        assert any(e["path"].startswith("/datasets/0") for e in bad.json()["errors"])
        unknown = http.post("/runs", json={**body, "ref": "run:fraud/y", "produced": []})
        assert unknown.status_code == 422
        assert "/produced" in [e["path"] for e in unknown.json()["errors"]]
