"""Model cards in and out, on both backends: real-shaped Hub cards, the round trip, and
what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelatlas.errors import InvalidInput
from modelatlas.integrations import parse_card
from modelatlas.registry import Registry, VersionRegistration

DATA = Path(__file__).parent / "data"


def _card(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _edges(registry: Registry, ref: str, relation: str) -> set[str]:
    page = registry.relations(ref, direction="out", relation=relation)
    return {r.target for r in page.items}


def test_parse_reads_hub_fields() -> None:
    card = parse_card(_card("card_text_classification.md"))
    assert card.license == "apache-2.0"
    assert card.datasets == ("stanfordnlp/imdb",)
    assert card.base_models == ("distilbert/distilbert-base-uncased",)
    assert card.metrics() == {"accuracy": 0.9312, "f1": 0.9308}
    assert card.text.startswith("# distilbert-imdb")
    assert parse_card(_card("card_base_models.md")).language == ("en", "fr")


def test_import_registers_a_version_with_lineage(registry: Registry) -> None:
    done = registry.import_card("nlp/sentiment", {"card": _card("card_text_classification.md")})
    assert done.changed and done.model_version == "model_version:nlp/sentiment@1"
    model = registry.get_asset("model:nlp/sentiment")
    assert model.metadata["license"] == "apache-2.0"
    assert model.metadata["task"] == "text-classification"
    assert model.metadata["framework"] == "transformers"
    assert model.metadata["card"].startswith("# distilbert-imdb")
    assert {"sentiment", "generated_from_trainer"} <= set(model.tags)
    version = registry.get_asset(done.model_version)
    assert version.metadata["metrics"] == {"accuracy": 0.9312, "f1": 0.9308}
    base = "model_version:hf/distilbert--distilbert-base-uncased@1"
    assert _edges(registry, done.model_version, "derived_from") == {base}
    run = "run:nlp/sentiment-v1"
    assert _edges(registry, run, "used") == {"dataset:hf/stanfordnlp--imdb@main"}
    assert _edges(registry, run, "produced") == {done.model_version}
    dataset = registry.get_asset("dataset:hf/stanfordnlp--imdb@main")
    assert dataset.metadata["location"] == "https://huggingface.co/datasets/stanfordnlp/imdb"

    again = registry.import_card("model:nlp/sentiment",
                                 {"card": _card("card_text_classification.md")})
    assert not again.changed and again.model_version == done.model_version
    assert registry.list_versions("nlp", "sentiment").items[-1].ref == done.model_version


def test_export_then_import_round_trips(registry: Registry) -> None:
    first = registry.import_card("llm/chat", {"card": _card("card_base_models.md")})
    exported = registry.export_card(first.model_version or "")
    assert exported.startswith("---\n") and "## Lineage" in exported
    again = registry.import_card("llm/chat-copy", {"card": exported})
    assert again.changed and again.model_version == "model_version:llm/chat-copy@1"
    source, copy = (registry.get_asset(r) for r in ("model:llm/chat", "model:llm/chat-copy"))
    assert copy.metadata == source.metadata
    assert set(copy.tags) == set(source.tags)
    for relation in ("derived_from",):
        assert _edges(registry, "model_version:llm/chat-copy@1", relation) == _edges(
            registry, "model_version:llm/chat@1", relation)
    assert _edges(registry, "run:llm/chat-copy-v1", "used") == _edges(
        registry, "run:llm/chat-v1", "used")
    # the copy's exported card says the same again (no nested generated sections)
    assert registry.export_card("model:llm/chat-copy").count("modelatlas:generated -->") == 4


def test_minimal_card_onto_an_existing_version(registry: Registry) -> None:
    registry.register_version("fraud", "churn",
                              VersionRegistration(metadata={"metrics": {"auc": 0.9}}))
    done = registry.import_card("fraud/churn", {"card": _card("card_minimal.md"),
                                                "version": 1})
    assert done.model_version == "model_version:fraud/churn@1"
    assert registry.get_asset("model:fraud/churn").metadata["license"] == "mit"
    text = registry.export_card("model_version:fraud/churn@1")
    assert "| auc | 0.9 |" in text and "license: mit" in text


@pytest.mark.parametrize(("text", "message"), [
    ("---\nlicense: [mit\n---\nbody", "line 2"),
    ("---\nlicense: !!python/object/apply:os.system ['true']\n---\n", "python/object"),
    ("---\n- a list\n---\n", "mapping"),
    ("---\nlicense: mit\n", "never closed"),
    ("---\na: &x [1]\nb: *x\n---\n", "aliases"),
])
def test_bad_cards_are_refused(registry: Registry, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        registry.import_card("fraud/bad", {"card": text})
    assert message in raised.value.detail
    assert raised.value.status == 422
