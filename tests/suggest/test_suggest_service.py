"""Completions of every kind, ranking that learns from use (with decay), related assets."""

from __future__ import annotations

import time

import pytest

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import Registry

DAY = 86_400.0


def texts(registry: Registry, q: str, **kwargs: object) -> list[str]:
    return [s.text for s in registry.suggest(q, **kwargs)]  # type: ignore[arg-type]


def test_refs_complete_namespace_name_and_version(org: Registry) -> None:
    # churn has two versions (more edges): popularity first, then the text
    assert texts(org, "model:fr") == ["model:fraud/churn", "model:fraud/chargeback",
                                      "model:fraud/churn_x", "model:fraud/churnax"]
    assert texts(org, "model_version:fraud/churn@") == ["model_version:fraud/churn@1",
                                                        "model_version:fraud/churn@2"]
    found = org.suggest("trained_on:dataset:fin")
    assert [(s.text, s.kind, s.ref) for s in found] == [
        ("trained_on:dataset:finance/transactions@3", "ref", "dataset:finance/transactions@3")]


def test_names_tags_values_and_fields(org: Registry) -> None:
    by_text = {s.text: s for s in org.suggest("ch", limit=50)}
    assert {"churn", "chargeback"} <= set(by_text)
    assert by_text["churn"].kind == "name" and by_text["churn"].ref == "model:fraud/churn"
    assert "tag:pii" in texts(org, "tag:p")
    tier = org.suggest("ti", limit=50)
    assert ("tag:tier-1", "tag") in [(s.text, s.kind) for s in tier]
    assert "namespace:fraud" in texts(org, "namespace:f")
    assert "meta.framework:xgboost" in texts(org, "meta.framework:x")
    assert "meta.framework:xgboost" in texts(org, "xgb")
    assert {"meta.", "metrics.", "meta.framework:"} <= set(texts(org, "met", limit=50))
    assert "trained_on:" in texts(org, "trai")
    # taxonomy terms and synonyms complete as tags too
    assert any(t.startswith("tag:task:classification") for t in texts(org, "tag:task:cl"))


def test_only_the_last_token_is_completed(org: Registry) -> None:
    assert texts(org, "kind:model_version tag:pi") == ["tag:pii"]
    assert "tag:" in texts(org, "kind:model (ta")


@pytest.mark.parametrize(("q", "expected"), [
    ("model:fraud/churn%", []), ("%", []), ("_", []), ("'", []), ("name:%", []),
    ("ünï", []), ("\"x", []),
    ("model:fraud/churn_", ["model:fraud/churn_x"]),  # '_' is that character, not a wildcard
])
def test_wildcards_and_quotes_are_plain_text(org: Registry, q: str,
                                             expected: list[str]) -> None:
    assert texts(org, q, limit=50) == expected


def test_a_hostile_token_ends_and_the_empty_one_lists_the_fields(org: Registry) -> None:
    """"--" ends the token, and completing an empty token lists the query's fields."""
    found = texts(org, "tag:'; DROP TABLE assets; --", limit=50)
    assert found == texts(org, "", limit=50)
    assert "kind:" in found and "trained_on*:" in found


def test_usage_changes_the_order(org: Registry) -> None:
    assert texts(org, "model:fraud/ch") == ["model:fraud/churn", "model:fraud/chargeback",
                                            "model:fraud/churn_x", "model:fraud/churnax"]
    org.record_usage("pulled", "model:fraud/churnax")
    assert texts(org, "model:fraud/ch")[0] == "model:fraud/churnax"
    # a search raises the terms it used
    assert texts(org, "tag:")[:2] == ["tag:pii", "tag:tier-1"]  # by number of assets
    org.search("tag:tier-1")
    org.search("tag:tier-1")
    assert texts(org, "tag:")[0] == "tag:tier-1"
    fields = org.suggest("me")
    org.search("metrics.auc>0.5")
    assert org.suggest("me")[0].text == "metrics." or fields[0].text == "meta."


def test_a_short_list_of_names_keeps_the_ranking(org: Registry) -> None:
    # names are read best first and stop at the limit: what is cut must rank below it
    assert texts(org, "ch") == ["churn", "chargeback", "chargeback-v1", "churn-v1", "churn_x",
                                "churnax"]  # versions (and runs), then the text
    assert texts(org, "ch", limit=2) == ["churn", "chargeback"]
    org.record_usage("deployed", "model:fraud/churnax")  # 3, above churn's derivation (2)
    found = org.suggest("ch", limit=1)  # last by name, first by use
    assert [(s.text, s.ref) for s in found] == [("churnax", "model:fraud/churnax")]


def test_old_signals_weigh_less(org: Registry) -> None:
    now = time.time()
    org.record_usage("opened", "model:fraud/chargeback", at=now - 60 * DAY)
    org.record_usage("opened", "model:fraud/churn", at=now - DAY)
    found = {s.text: s.score for s in org.suggest("model:fraud/ch", now=now)}
    assert found["model:fraud/churn"] > found["model:fraud/chargeback"] > 0
    # 60 days at a 14-day half-life: about 2**-4.3 of one signal
    assert found["model:fraud/chargeback"] == pytest.approx(0.5 ** (60 / 14), rel=1e-6)
    assert texts(org, "model:fraud/ch")[0] == "model:fraud/churn"
    # a late-reported old signal adds what it is worth now, never more
    org.record_usage("opened", "model:fraud/churn", at=now - 28 * DAY)
    again = {s.text: s.score for s in org.suggest("model:fraud/ch", now=now)}
    expected = 0.5 ** (1 / 14) + 0.25
    assert again["model:fraud/churn"] == pytest.approx(expected, rel=1e-6)


def test_deploying_and_deriving_are_signals(org: Registry) -> None:
    # churn@1 was derived from at registration of churn@2
    scores = {s.text: s.score for s in org.suggest("model_version:fraud/churn@")}
    assert scores["model_version:fraud/churn@1"] > scores["model_version:fraud/churn@2"]


def test_related_assets_with_reasons(org: Registry) -> None:
    found = {r.asset.ref: r for r in org.related("model_version:fraud/churn@1")}
    charge = found["model_version:fraud/chargeback@1"]
    assert "shares dataset:finance/transactions@3" in charge.reasons
    assert "another version of model:fraud/churn" in found["model_version:fraud/churn@2"].reasons
    assert any(r.startswith("lineage: model_version:fraud/churn@2 derived_from")
               for r in found["model_version:fraud/churn@2"].reasons)
    assert "shares tag:pii" in found["dataset:finance/transactions@3"].reasons
    ltv = {r.asset.ref: r for r in org.related("model_version:growth/ltv@1")}
    assert "shares feature:fraud/txn-aggregates@2" in (
        ltv["model_version:fraud/chargeback@1"].reasons)
    scores = [r.score for r in org.related("model_version:fraud/churn@1")]
    assert scores == sorted(scores, reverse=True)
    assert len(org.related("model_version:fraud/churn@1", limit=1)) == 1


def test_related_reads_a_bounded_fan_out(registry: Registry,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A tag shared with very many assets contributes only the most recent of them."""
    from modelatlas.registry.types import AssetCreate
    from modelatlas.search import related

    for n in range(6):
        registry.create_asset(AssetCreate(ref=f"dataset:lake/t{n}@1", tags=["common"]))
    assert len(registry.related("dataset:lake/t0@1")) == 5
    monkeypatch.setattr(related, "FAN_OUT", 2)
    assert {r.asset.ref for r in registry.related("dataset:lake/t0@1")} == {
        "dataset:lake/t5@1", "dataset:lake/t4@1"}


def test_bad_input(org: Registry) -> None:
    with pytest.raises(InvalidInput):
        org.suggest("x", limit=0)
    with pytest.raises(InvalidInput):
        org.suggest("x" * 301)
    with pytest.raises(InvalidInput):
        org.record_usage("liked", "model:fraud/churn")
    with pytest.raises(NotFound):
        org.record_usage("opened", "model:fraud/nope")
    with pytest.raises(NotFound):
        org.related("model:fraud/nope")
