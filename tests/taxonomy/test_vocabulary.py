"""The vocabulary's rules through the service layer, on SQLite and PostgreSQL: a parent
finds its children, a synonym finds its canonical term, unknown tags are reported, and
every change is one event (a refused change is none)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelatlas.errors import AlreadyExists, Conflict, InvalidInput, ModelAtlasError, NotFound
from modelatlas.registry import Registry
from modelatlas.search import taxonomy
from modelatlas.search.vocabulary import MAX_DEPTH

BAD_DOCUMENTS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "bad_documents.yaml").read_text()
)


def _actions(registry: Registry, after: int = 0) -> list[str]:
    return [e.action for e in registry.events(after=after, limit=500).items]


def _last_seq(registry: Registry) -> int:
    items = registry.events(limit=500).items
    return items[-1].seq if items else 0


def test_default_vocabulary_loads_once(registry: Registry,
                                       event_count: Callable[[], int]) -> None:
    summary = registry.ensure_default_vocabulary()
    assert summary is not None
    assert 80 <= summary.terms <= 150 and summary.created == summary.terms
    assert _actions(registry) == ["taxonomy.loaded"]
    assert registry.events(limit=1).items[0].payload["default"] is True
    assert registry.ensure_default_vocabulary() is None
    assert event_count() == 1
    page = registry.taxonomy_terms(limit=500)
    assert len(page.items) == summary.terms and page.next_cursor is None


def test_a_parent_finds_its_children_and_their_synonyms(vocab: Registry) -> None:
    found = vocab.expand_tag("task:classification")
    assert found.canonical == "task:classification"
    assert found.tags[0] == "task:classification"
    for tag in ("task:classification/binary", "binary-classification",
                "task:classification/multiclass", "multiclass-classification", "classifier"):
        assert tag in found.tags
    assert "task:regression" not in found.tags
    # grandchildren too: the walk is recursive
    boosting = vocab.expand_tag("tree-based").tags
    assert {"gradient-boosting", "xgboost", "lightgbm", "lgbm", "catboost"} <= set(boosting)


def test_a_synonym_resolves_to_its_term_and_expands_the_same(vocab: Registry) -> None:
    for typed in ("nlp", "NLP", "  Nlp "):
        found = vocab.expand_tag(typed)
        assert found.canonical == "natural-language-processing"
        same = set(vocab.expand_tag("natural-language-processing").tags)
        assert same <= set(found.tags) <= same | {typed.strip()}
    assert vocab.get_term("nlp").term == "natural-language-processing"
    assert vocab.expand_tag("binary-classification").tags[0] == "task:classification/binary"


def test_tags_outside_the_vocabulary_are_reported_not_refused(vocab: Registry) -> None:
    assert vocab.expand_tag("team-fraud-special").tags == ["team-fraud-special"]
    assert vocab.expand_tag("team-fraud-special").canonical is None
    tags = ["pii", "NLP", "tier-1", "xgboost", "tier-1", "golden-image"]
    assert vocab.unknown_tags(tags) == ["tier-1", "golden-image"]
    with vocab.db.read() as conn:
        assert taxonomy.canonical(conn, "pci") == "pci-dss"
        assert taxonomy.canonical(conn, "tier-1") is None
        assert taxonomy.expand_tag(conn, "eu-ai-act")[:2] == ["eu-ai-act", "ai-act"]


def test_a_new_narrower_term_is_found_through_every_ancestor(vocab: Registry) -> None:
    start = _last_seq(vocab)
    made = vocab.set_term("task:classification/binary/imbalanced",
                          parent="task:classification/binary",
                          description="rare positives", synonyms=["Rare-Event", "rare-event"])
    assert made.synonyms == ["rare-event"]  # normalised, once
    assert "rare-event" in vocab.expand_tag("classification").tags
    assert "task:classification/binary/imbalanced" in vocab.expand_tag("task:classification").tags
    assert vocab.get_term("task:classification/binary").children == [
        "task:classification/binary/imbalanced"
    ]
    events = vocab.events(after=start).items
    assert [e.action for e in events] == ["taxonomy.term_set"]
    assert events[0].ref == "taxonomy:task:classification/binary/imbalanced"
    assert events[0].payload["created"] is True
    assert events[0].payload["parent"] == "task:classification/binary"


def test_update_keeps_synonyms_unless_given(vocab: Registry) -> None:
    vocab.set_term("audio", description="sound")
    assert vocab.get_term("audio").synonyms == ["modality:audio"]
    vocab.set_term("audio", description="sound", synonyms=[])
    assert vocab.get_term("audio").synonyms == []
    assert vocab.expand_tag("modality:audio").canonical is None


def test_a_cycle_is_refused_and_changes_nothing(vocab: Registry,
                                                event_count: Callable[[], int]) -> None:
    before = event_count()
    with pytest.raises(InvalidInput) as caught:
        vocab.set_term("task:classification", parent="task:classification/binary")
    assert caught.value.errors[0].path == "/parent"
    with pytest.raises(InvalidInput):
        vocab.set_term("tree-based", parent="xgboost")  # two levels down
    assert vocab.get_term("task:classification").parent is None
    assert event_count() == before


def test_duplicate_synonyms_are_refused(vocab: Registry,
                                        event_count: Callable[[], int]) -> None:
    before = event_count()
    with pytest.raises(AlreadyExists) as caught:
        vocab.set_term("my-nlp", synonyms=["other", "nlp"])
    assert caught.value.errors[0].path == "/synonyms/1"
    assert "natural-language-processing" in caught.value.detail
    with pytest.raises(AlreadyExists):
        vocab.set_term("my-thing", synonyms=["xgboost"])  # a term cannot be a synonym
    with pytest.raises(AlreadyExists):
        vocab.set_term("nlp")  # nor a synonym a term
    with pytest.raises(AlreadyExists):
        vocab.add_synonym("tabular", "NLP")
    with pytest.raises(InvalidInput):
        vocab.set_term("my-thing", synonyms=["bad\u202eone"])
    with pytest.raises(InvalidInput):
        vocab.set_term("Not A Term")
    assert event_count() == before
    with pytest.raises(NotFound):
        vocab.get_term("my-nlp")  # the refused write left nothing behind


def test_remove_is_refused_while_narrower_terms_exist(vocab: Registry) -> None:
    with pytest.raises(Conflict) as caught:
        vocab.remove_term("task:classification")
    assert caught.value.status == 409 and "task:classification/binary" in caught.value.detail
    start = _last_seq(vocab)
    for leaf in ("task:classification/binary", "task:classification/multiclass",
                 "task:classification/multilabel"):
        vocab.remove_term(leaf)
    removed = vocab.remove_term("task:classification")
    assert removed.synonyms == ["classification", "classifier"]
    assert _actions(vocab, start) == ["taxonomy.term_removed"] * 4
    assert vocab.expand_tag("classification").tags == ["classification"]  # now unknown
    with pytest.raises(NotFound) as caught:
        vocab.remove_term("nlp")  # a write never goes through a synonym
    assert "synonym of natural-language-processing" in caught.value.detail
    assert vocab.get_term("natural-language-processing").term == "natural-language-processing"


def test_synonyms_are_added_and_removed_with_events(vocab: Registry) -> None:
    start = _last_seq(vocab)
    assert "sklearn" in vocab.add_synonym("linear-model", "SKLearn").synonyms
    vocab.add_synonym("linear-model", "sklearn")  # already so: no change, no event
    assert vocab.expand_tag("sklearn").canonical == "linear-model"
    assert "sklearn" not in vocab.remove_synonym("sklearn").synonyms
    assert _actions(vocab, start) == ["taxonomy.synonym_set", "taxonomy.synonym_removed"]
    with pytest.raises(NotFound):
        vocab.remove_synonym("sklearn")
    with pytest.raises(NotFound):
        vocab.add_synonym("no-such-term", "x")


def test_load_merges_then_replaces(vocab: Registry) -> None:
    start = _last_seq(vocab)
    merged = vocab.load_vocabulary(
        "terms:\n"
        "  - term: team:fraud\n"
        "    synonyms: [fraud-team]\n"
        "  - {term: team:fraud/cards, parent: team:fraud}\n"
        "  - {term: model-risk/tier-1, parent: model-risk, synonyms: [tier-1]}\n"
        "  - {term: xgboost, description: XGBoost, synonyms: [xgb]}\n"
    )
    assert (merged.created, merged.updated, merged.removed) == (3, 1, 0)
    assert "tier-1" in vocab.expand_tag("regulated").tags
    assert vocab.get_term("xgb").parent is None  # the document states xgboost whole
    total = len(vocab.taxonomy_terms(limit=500).items)
    replaced = vocab.load_vocabulary({"terms": [{"term": "team:fraud", "children": [
        {"term": "team:fraud/cards"}]}]}, replace=True)
    assert replaced.removed == total - 2 and replaced.updated == 2
    assert [t.term for t in vocab.taxonomy_terms().items] == ["team:fraud", "team:fraud/cards"]
    assert vocab.get_term("team:fraud").synonyms == []
    events = vocab.events(after=start).items
    assert [e.action for e in events] == ["taxonomy.loaded", "taxonomy.loaded"]
    assert events[1].payload["replace"] is True and events[1].payload["removed"] == total - 2


def test_the_hierarchy_depth_is_bounded(registry: Registry) -> None:
    chain = [{"term": f"level-{i}", **({"parent": f"level-{i - 1}"} if i else {})}
             for i in range(MAX_DEPTH + 1)]
    registry.load_vocabulary({"terms": chain})
    assert len(registry.expand_tag("level-0").tags) == MAX_DEPTH + 1
    with pytest.raises(InvalidInput) as caught:
        registry.set_term(f"level-{MAX_DEPTH + 1}", parent=f"level-{MAX_DEPTH}")
    assert "deeper" in caught.value.detail


@pytest.mark.parametrize("case", BAD_DOCUMENTS, ids=[c["name"] for c in BAD_DOCUMENTS])
def test_bad_documents_are_refused_with_a_path(vocab: Registry, case: dict[str, Any],
                                               event_count: Callable[[], int]) -> None:
    before = event_count()
    with pytest.raises(ModelAtlasError) as caught:
        vocab.load_vocabulary(case["document"])
    assert caught.value.code == case["code"], caught.value.detail
    assert caught.value.errors and caught.value.errors[0].path == case["path"], (
        caught.value.errors)
    assert event_count() == before


def test_terms_page_through_in_name_order(vocab: Registry) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = vocab.taxonomy_terms(cursor=cursor, limit=7)
        seen += [t.term for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert len(seen) == len(vocab.taxonomy_terms(limit=500).items)
    under = [t.term for t in vocab.taxonomy_terms(under="neural-network").items]
    assert under[0] == "large-language-model" and "neural-network/cnn" in under
    assert "xgboost" not in under
    with pytest.raises(InvalidInput):
        vocab.taxonomy_terms(cursor="not-ours!")
    with pytest.raises(InvalidInput):
        vocab.taxonomy_terms(limit=0)
