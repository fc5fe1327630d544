"""The vocabulary document: its format, strict parsing, and the default ModelAtlas ships.

A document (YAML, or JSON which is YAML too) lists canonical terms, each with an optional
description, synonyms (other spellings that resolve to it) and narrower terms nested in
``children`` (or named by ``parent`` on a top-level entry)::

    version: 1
    terms:
      - term: task:classification
        synonyms: [classification]
        children:
          - term: task:classification/binary
            synonyms: [binary-classification]

Parsing refuses what makes two readers disagree (YAML aliases, duplicate keys, values JSON
cannot hold) and reports every error with its path in the document (``/terms/0/term``).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelatlas import jsonsafe
from modelatlas.errors import FieldError, InvalidInput, MalformedBody, field_errors

__all__ = [
    "MAX_DEPTH",
    "TERM_GRAMMAR",
    "FlatTerm",
    "TermSpec",
    "Vocabulary",
    "check_label",
    "check_term",
    "default_vocabulary",
    "document_digest",
    "flatten",
    "normalize",
    "parse_vocabulary",
]

MAX_DEPTH = 16  # levels below a root; real vocabularies are 3-5 deep
MAX_LABEL = 200  # the width of the term and synonym columns
MAX_TERMS = 10_000  # per loaded document
MAX_SYNONYMS = 50  # per term

_SEGMENT = r"[a-z0-9][a-z0-9._+-]*"
TERM_GRAMMAR = re.compile(rf"{_SEGMENT}(?::{_SEGMENT})?(?:/{_SEGMENT})*")
TERM_HELP = "lowercase letters, digits and . _ + -, as family:name/narrower (e.g. task:ranking)"


# --- documents -----------------------------------------------------------------------------
# --- values ------------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TermSpec(_In):
    """One term in a vocabulary document, with its narrower terms nested in ``children``."""

    term: str = Field(max_length=MAX_LABEL)
    description: str = Field(default="", max_length=2000)
    synonyms: list[str] = Field(default_factory=list, max_length=MAX_SYNONYMS)
    parent: str | None = Field(
        default=None, max_length=MAX_LABEL,
        description="a term outside this entry (for a top-level entry); nested entries "
        "take the enclosing term",
    )
    children: list[TermSpec] = Field(default_factory=list)


class Vocabulary(_In):
    """A vocabulary document (YAML or JSON)."""

    version: Literal[1] = 1
    terms: list[TermSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class FlatTerm:
    """A document entry with its parent named and its place in the document."""

    term: str
    parent: str | None
    description: str
    synonyms: tuple[str, ...]
    path: str  # JSON Pointer of the entry in the document



# --- labels ------------------------------------------------------------------------------
def normalize(tag: str) -> str:
    """The form terms, synonyms and lookups are compared in: NFC, trimmed, lowercase."""
    return unicodedata.normalize("NFC", tag).strip().lower()


def check_label(value: str, path: str) -> str:
    """A synonym or looked-up tag: normalised, 1-200 characters, nothing invisible."""
    label = normalize(value)
    if not label or len(label) > MAX_LABEL:
        raise InvalidInput.at(path, f"must be 1-{MAX_LABEL} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in label):
        raise InvalidInput.at(path, "control or invisible character")
    return label


def check_term(value: str, path: str = "/term") -> str:
    """A canonical term: a label that also follows :data:`TERM_GRAMMAR`."""
    term = check_label(value, path)
    if not TERM_GRAMMAR.fullmatch(term):
        raise InvalidInput.at(path, TERM_HELP)
    return term


# --- documents ---------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """YAML without the parts that make two readers disagree or a small file expensive:
    aliases (billion laughs) and duplicate keys (last wins silently) are refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise MalformedBody(
                f"YAML aliases are not allowed (line {mark.line + 1})",
                errors=[FieldError("", "alias")],
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise MalformedBody(
                    f"duplicate key {key!r} at line {key_node.start_mark.line + 1}",
                    errors=[FieldError(f"/{key}", "duplicate key")],
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml(data: str | bytes) -> Any:
    try:
        return yaml.load(data, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise MalformedBody(f"not valid YAML{where}: {problem}",
                            errors=[FieldError("", f"invalid YAML{where}")]) from None


def _json_types(value: Any, path: str = "") -> None:
    """YAML can say more than JSON (dates, non-string keys, NaN): refuse what JSON cannot."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str):
                    raise MalformedBody(f"key {key!r} at {where or '/'} is not a string",
                                        errors=[FieldError(where or "/", "keys are strings")])
                stack.append((child, f"{where}/{key}"))
        elif isinstance(node, list):
            stack += [(child, f"{where}/{i}") for i, child in enumerate(node)]
        elif isinstance(node, float) and not math.isfinite(node):
            raise MalformedBody(f"{node} at {where or '/'} is not a finite number",
                                errors=[FieldError(where or "/", "not finite")])
        elif not isinstance(node, str | int | float | bool | type(None)):
            raise MalformedBody(
                f"{type(node).__name__} at {where or '/'} is not a JSON value; quote it",
                errors=[FieldError(where or "/", "not a JSON value")],
            )


def parse_vocabulary(document: Vocabulary | Mapping[str, Any] | str | bytes) -> Vocabulary:
    """A vocabulary from YAML text (JSON is YAML too), a mapping, or one already parsed.
    Errors name the offending path in the document."""
    if isinstance(document, Vocabulary):
        return document
    data: Any = document
    if isinstance(document, str | bytes):
        data = _yaml(document)
        _json_types(data)
    jsonsafe.check_tree(data, max_depth=2 * MAX_DEPTH + 4)
    if not isinstance(data, Mapping):
        raise MalformedBody("a vocabulary document is a mapping with `terms`",
                            errors=[FieldError("/", "not a mapping")])
    try:
        return Vocabulary.model_validate(dict(data))
    except ValidationError as exc:
        errors = field_errors(exc)
        summary = "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        raise InvalidInput(f"the vocabulary is invalid: {summary}", errors=errors) from None


def _flat_entries(vocab: Vocabulary) -> list[tuple[TermSpec, str, str | None]]:
    """Every entry with its document path and enclosing term, depth first."""
    out: list[tuple[TermSpec, str, str | None]] = []
    top: str | None = None
    stack = [(spec, f"/terms/{i}", top) for i, spec in enumerate(vocab.terms)][::-1]
    while stack:
        spec, path, enclosing = stack.pop()
        out.append((spec, path, enclosing))
        if len(out) > MAX_TERMS:
            raise InvalidInput.at("/terms", f"at most {MAX_TERMS} terms in one document")
        stack += [(child, f"{path}/children/{i}", spec.term)
                  for i, child in enumerate(spec.children)][::-1]
    return out


def flatten(vocab: Vocabulary) -> list[FlatTerm]:
    """The document's terms, each checked against the grammar and the others: no term
    twice, no synonym twice, no synonym equal to a term, a nested entry's ``parent`` (if
    given) is the enclosing term. Cycles through ``parent`` are found when stored."""
    flat: list[FlatTerm] = []
    terms: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for spec, path, enclosing in _flat_entries(vocab):
        term = check_term(spec.term, f"{path}/term")
        if term in terms:
            raise InvalidInput.at(f"{path}/term", f"{term} is already defined at {terms[term]}")
        terms[term] = path
        parent = check_term(spec.parent, f"{path}/parent") if spec.parent else None
        if enclosing is not None:
            outer = normalize(enclosing)
            if parent is not None and parent != outer:
                raise InvalidInput.at(f"{path}/parent", f"nested under {outer}, not {parent}")
            parent = outer
        if parent == term:
            raise InvalidInput.at(f"{path}/parent", "a term cannot be its own parent")
        own: list[str] = []
        for i, raw in enumerate(spec.synonyms):
            where = f"{path}/synonyms/{i}"
            label = check_label(raw, where)
            if label in synonyms:
                raise InvalidInput.at(where, f"{label} is already a synonym at {synonyms[label]}")
            synonyms[label] = where
            own.append(label)
        flat.append(FlatTerm(term, parent, spec.description, tuple(own), path))
    for label, where in synonyms.items():
        if label in terms:
            raise InvalidInput.at(where, f"{label} is a term (at {terms[label]}), not a synonym")
    return flat


def document_digest(vocab: Vocabulary) -> str:
    return hashlib.sha256(jsonsafe.canonical(vocab.model_dump(mode="json"))).hexdigest()


def default_vocabulary() -> str:
    """The YAML text of the vocabulary ModelAtlas ships (tasks, modalities, algorithm
    families, regulatory labels)."""
    source = resources.files(__package__) / "default.yaml"
    return source.read_text(encoding="utf-8")

