"""Hugging Face-style model cards: a README.md with YAML front matter, read and written.

The front matter fields understood are the Hub's (https://huggingface.co/docs/hub/model-cards):
``license``, ``language``, ``datasets``, ``metrics``, ``tags``, ``base_model`` (one id or a
list), ``pipeline_tag``, ``library_name`` and ``model-index`` (evaluation results: task,
dataset, metrics with ``type`` and ``value``). Other fields are kept in
:attr:`ModelCard.extra` and otherwise ignored. The Markdown after the front matter is the
card's text.

Pure functions: no database, no HTTP. The service layer maps a :class:`ModelCard` onto
assets and relations, and back (``registry/_integrations.py``).

An exported card wraps what the registry generated (title, metrics table, lineage) in
``<!-- modelatlas:generated -->`` ... ``<!-- /modelatlas:generated -->`` comments; reading
a card drops those blocks, so importing an exported card gives back the text that was
imported, not the text plus a copy of the tables.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.integrations._yaml import load_one

MAX_CARD_BYTES = 1024 * 1024
GENERATED_OPEN = "<!-- modelatlas:generated -->"
GENERATED_CLOSE = "<!-- /modelatlas:generated -->"
_GENERATED = re.compile(re.escape(GENERATED_OPEN) + r".*?" + re.escape(GENERATED_CLOSE),
                        re.S)
_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")
_KNOWN = frozenset({"license", "language", "datasets", "metrics", "tags", "base_model",
                    "pipeline_tag", "library_name", "model-index", "model_name"})


@dataclass(frozen=True)
class EvalResult:
    """One ``model-index`` result: a task, the dataset it was measured on, its metrics."""

    task: str | None
    dataset: str | None
    metrics: dict[str, float]


@dataclass(frozen=True)
class ModelCard:
    text: str = ""
    license: str | None = None
    language: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    metric_names: tuple[str, ...] = ()
    results: tuple[EvalResult, ...] = ()
    tags: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    library_name: str | None = None
    model_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what was read but not used (a metric that is no number)

    def metrics(self) -> dict[str, float]:
        """The results' metrics by ``type``; a type measured on several datasets is keyed
        ``<dataset>/<type>`` after its first occurrence."""
        out: dict[str, float] = {}
        for result in self.results:
            for name, value in result.metrics.items():
                key = name if name not in out else f"{result.dataset or 'unknown'}/{name}"
                out.setdefault(key, value)
        return out


def _split(text: str) -> tuple[str | None, str, int]:
    """(front matter or None, body, line number the front matter starts on)."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 0
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index].rstrip("\r\n")):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), 2
    raise InvalidInput("the card's front matter opened on line 1 is never closed with ---",
                       errors=[FieldError("/card", "line 1: front matter is not closed")])


def _strings(value: Any, path: str) -> tuple[str, ...]:
    """A field the Hub allows as one string or a list of them."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, str | int | float) and not isinstance(i, bool) for i in items):
        raise InvalidInput.at(path, "a string or a list of strings")
    return tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))


def _string(value: Any, path: str) -> str | None:
    found = _strings(value, path)
    if len(found) > 1:
        raise InvalidInput.at(path, "one string, not a list")
    return found[0] if found else None


def _label(value: Any) -> str | None:
    """``task``/``dataset`` of a result: a mapping with ``type`` (or ``name``), or text."""
    if isinstance(value, dict):
        value = value.get("type") or value.get("name")
    return str(value) if isinstance(value, str | int) and str(value) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _results(value: Any, notes: list[str]) -> tuple[tuple[EvalResult, ...], str | None]:
    if value is None:
        return (), None
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise InvalidInput.at("/card/model-index", "a list of {name, results}")
    found: list[EvalResult] = []
    name = next((str(e["name"]) for e in value if e.get("name")), None)
    for i, entry in enumerate(value):
        results = entry.get("results") or []
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise InvalidInput.at(f"/card/model-index/{i}/results", "a list of results")
        for j, result in enumerate(results):
            metrics: dict[str, float] = {}
            listed = result.get("metrics") or []
            if not isinstance(listed, list):
                raise InvalidInput.at(f"/card/model-index/{i}/results/{j}/metrics", "a list")
            for k, metric in enumerate(listed):
                where = f"/card/model-index/{i}/results/{j}/metrics/{k}"
                kind = _label(metric) if isinstance(metric, dict) else None
                number = _number(metric.get("value")) if isinstance(metric, dict) else None
                if kind is None or number is None:
                    notes.append(f"{where}: skipped (needs a type and a numeric value)")
                    continue
                metrics.setdefault(kind, number)
            found.append(EvalResult(_label(result.get("task")), _label(result.get("dataset")),
                                    metrics))
    return tuple(found), name


def parse_card(text: str) -> ModelCard:
    """Read a card; :class:`InvalidInput` names the line of a YAML error and the field of a
    wrong type. Front matter is read with the safe loader (no Python tags, no aliases)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CARD_BYTES:
        raise InvalidInput.at("/card", f"at most {MAX_CARD_BYTES} bytes")
    front, body, first_line = _split(text)
    data = {} if front is None else load_one(front, path="/card", what="the card's front "
                                             "matter", first_line=first_line)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput.at("/card", "the front matter must be a mapping of fields")
    notes: list[str] = []
    results, index_name = _results(data.get("model-index"), notes)
    return ModelCard(
        text=_GENERATED.sub("", body).strip(),
        license=_string(data.get("license"), "/card/license"),
        language=_strings(data.get("language"), "/card/language"),
        datasets=_strings(data.get("datasets"), "/card/datasets"),
        metric_names=_strings(data.get("metrics"), "/card/metrics"),
        results=results,
        tags=_strings(data.get("tags"), "/card/tags"),
        base_models=_strings(data.get("base_model"), "/card/base_model"),
        pipeline_tag=_string(data.get("pipeline_tag"), "/card/pipeline_tag"),
        library_name=_string(data.get("library_name"), "/card/library_name"),
        model_name=_string(data.get("model_name"), "/card/model_name") or index_name,
        extra={str(k): v for k, v in data.items() if k not in _KNOWN},
        notes=tuple(notes),
    )


def front_matter(card: ModelCard) -> dict[str, Any]:
    """The card's fields as Hub front matter, in the Hub's usual order; empty ones left out."""
    front: dict[str, Any] = {}
    if card.license:
        front["license"] = card.license
    if card.language:
        front["language"] = list(card.language)
    if card.library_name:
        front["library_name"] = card.library_name
    if card.pipeline_tag:
        front["pipeline_tag"] = card.pipeline_tag
    if card.tags:
        front["tags"] = list(card.tags)
    if card.datasets:
        front["datasets"] = list(card.datasets)
    if card.base_models:
        bases = list(card.base_models)
        front["base_model"] = bases[0] if len(bases) == 1 else bases
    metrics = card.metrics()
    if metrics:
        front["metrics"] = list(card.metric_names or metrics)
        front["model-index"] = [{"name": card.model_name or "model", "results": [
            _result_out(r) for r in card.results]}]
    return front


def _result_out(result: EvalResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if result.task:
        out["task"] = {"type": result.task}
    if result.dataset:
        out["dataset"] = {"type": result.dataset, "name": result.dataset}
    out["metrics"] = [{"type": k, "value": v} for k, v in result.metrics.items()]
    return out


def render_card(card: ModelCard, *, generated_head: str = "",
                generated_tail: str = "") -> str:
    """The card as README.md text: front matter, the registry's generated head, the card's
    own text, the generated tail. The generated parts are fenced so that reading the card
    back drops them."""
    front = yaml.safe_dump(front_matter(card), sort_keys=False, allow_unicode=True,
                           default_flow_style=False)
    parts = ["---\n", front if front.strip() != "{}" else "", "---\n"]
    if generated_head:
        parts += ["\n", GENERATED_OPEN, "\n", generated_head.strip(), "\n", GENERATED_CLOSE,
                  "\n"]
    if card.text:
        parts += ["\n", card.text.strip(), "\n"]
    if generated_tail:
        parts += ["\n", GENERATED_OPEN, "\n", generated_tail.strip(), "\n", GENERATED_CLOSE,
                  "\n"]
    return "".join(parts)
