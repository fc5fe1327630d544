"""OpenLineage names as ModelAtlas refs, deterministically.

OpenLineage namespaces are URIs or free text (``postgres://db:5432``, ``s3://bucket``,
``airflow-prod``) and names are paths or dotted identifiers (``/events/2024``,
``shop.public.orders``). ModelAtlas namespaces are 1-63 of ``[a-z0-9_-]`` and names allow
letters, digits, ``.``, ``_`` and ``-`` (:mod:`modelatlas.refs`). A value already valid is
kept as it is; any other is lowered (namespaces), each run of characters outside the
grammar becomes ``-`` (namespaces) or ``_`` (names), and 8 hex digits of the SHA-256 of the
original are appended, so two different originals can never map to the same ref (and the
same original always maps to the same one). The originals are kept in each asset's
``custom.openlineage``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from modelatlas.refs import MAX_NAME, Ref

_NAMESPACE_OK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_NAMESPACE_BAD = re.compile(r"[^a-z0-9_-]+")
_NAME_ASCII_OK = re.compile(r"[A-Za-z0-9._-]+")  # letters, digits and ._- (see name_for)
MAX_NAMESPACE = 63
DATASET_VERSION = "live"  # an OpenLineage dataset is a table or path that changes in place


def _tag(original: str) -> str:
    return hashlib.sha256(original.encode("utf-8")).hexdigest()[:8]


@lru_cache(maxsize=65536)  # names repeat in every event; the check is per character
def namespace_for(original: str) -> str:
    """A valid ModelAtlas namespace for an OpenLineage namespace."""
    if _NAMESPACE_OK.match(original):
        return original
    body = _NAMESPACE_BAD.sub("-", original.lower()).strip("-_") or "ol"
    body = body[: MAX_NAMESPACE - 9].rstrip("-_")
    return f"{body}-{_tag(original)}"


def _name_char_ok(ch: str, index: int) -> bool:
    if ch in "._-":
        return True
    category = unicodedata.category(ch)
    return category[0] in "LN" or (category == "Mn" and index > 0)


@lru_cache(maxsize=65536)
def name_for(original: str) -> str:
    """A valid ModelAtlas name for an OpenLineage name."""
    if len(original) <= MAX_NAME and _NAME_ASCII_OK.fullmatch(original):
        return original  # the usual case (a run id, a table): valid as it is, and in NFC
    normal = unicodedata.normalize("NFC", original)
    if normal and len(normal) <= MAX_NAME and all(
        _name_char_ok(ch, i) for i, ch in enumerate(normal)
    ):
        return normal
    cleaned: list[str] = []
    for index, ch in enumerate(normal):
        if _name_char_ok(ch, index):
            cleaned.append(ch)
        elif not cleaned or cleaned[-1] != "_":
            cleaned.append("_")
    body = "".join(cleaned).strip("_") or "ol"
    body = body[: MAX_NAME - 9]
    return f"{body}-{_tag(original)}"


# Refs are immutable and building one checks the grammar: the same datasets and jobs come
# in every event (a column-lineage facet names each input dataset once per column).
@lru_cache(maxsize=65536)
def dataset_ref(namespace: str, name: str) -> Ref:
    return Ref("dataset", namespace_for(namespace), name_for(name), DATASET_VERSION)


@lru_cache(maxsize=65536)
def job_ref(namespace: str, name: str) -> Ref:
    return Ref("code", namespace_for(namespace), name_for(name))


@lru_cache(maxsize=65536)  # a run's START and COMPLETE, and its children's parent facets
def run_ref(job_namespace: str, run_id: str) -> Ref:
    return Ref("run", namespace_for(job_namespace), name_for(run_id.lower()))


def schema_ref(dataset: Ref, digest: str) -> Ref:
    return Ref("schema", dataset.namespace, dataset.name, digest)
