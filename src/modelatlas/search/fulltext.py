"""Full text search over names, tags, descriptions, model cards, namespaces and kinds.

The index is the database's (migration ``0003_fulltext``: FTS5 on SQLite, a ``tsvector``
column on PostgreSQL), maintained by the database on every write. This module turns what a
user typed into a query over that index, one implementation per backend behind
:class:`FullTextBackend`, both returning the same result set for the same data.

What a user can type, and what it means (no other syntax exists)::

    fraud detector        assets with both words, anywhere in their text
    "fraud detector"      the two words next to each other, in one field
    fraud-detector        the same phrase: a word with separators inside is a phrase
    fraud det*            ``det`` as a prefix: only the last word, when it ends with ``*``

Everything else is text: ``OR``, ``NEAR(``, ``:``, ``^``, ``-``, quotes and SQL comment
markers are separators or words, never operators. Text is split into words here, and each
word reaches the database as a bound parameter, quoted for FTS5 (``"word"``) or turned into
lexemes by the database's own ``modelatlas_fts_phrase`` on PostgreSQL, so the database
splits a query exactly as it split the documents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import reduce
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from modelatlas.errors import InvalidInput

__all__ = [
    "FullTextBackend",
    "FullTextQuery",
    "Term",
    "full_text_query",
    "fulltext_backend",
    "fulltext_tokens",
    "matching",
    "parse_fulltext",
    "text_term",
]

MAX_QUERY_CHARS = 1_000
MAX_TERMS = 32
MAX_WORD_CHARS = 200
QUERY_PATH = "/q"

# Column weights, in the order of the FTS5 table's columns (migration 0003): a word in the
# name counts most, then tags, description, model card, namespace, kind.
FTS5_WEIGHTS = (10.0, 5.0, 2.0, 1.0, 1.0, 0.5)
# ts_rank_cd weights of the tsvector's D, C, B, A labels (kind+namespace, description+card,
# tags, name): the same order of importance.
TSVECTOR_WEIGHTS = (0.05, 0.2, 0.5, 1.0)

_LATIN_MARKS = re.compile(r"([a-z])[\u0300-\u036f]+")
_MARKS = re.compile(r"[\u0300-\u036f]+")
_WORD = re.compile(r"[^\W_]+")
# a quoted phrase (an unclosed quote runs to the end), or a run of other non-space text;
# a ``*`` right after a closing quote belongs to the phrase.
_SEGMENT = re.compile(r'"([^"]*)(?:"(\*?)|$)|([^\s"]+)')


def _fold(text: str) -> str:
    """Lower case, accents off Latin letters: what ``unicode61 remove_diacritics 2`` does
    and what ``modelatlas_fts_words`` does on PostgreSQL."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    recomposed = unicodedata.normalize("NFC", _LATIN_MARKS.sub(r"\1", decomposed))
    return _MARKS.sub("", recomposed)


def fulltext_tokens(text: str) -> list[str]:
    """The words of ``text`` as the full text index sees them: ``"Fraud-Détector_v2"`` is
    ``["fraud", "detector", "v2"]``. Useful to anything that must agree with the index
    (suggestions, highlighting)."""
    return _WORD.findall(_fold(text))


@dataclass(frozen=True)
class Term:
    """Words that must appear in this order, next to each other, in one field; the last
    one as a prefix when ``prefix``. A single word is a phrase of one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class FullTextQuery:
    """Terms that must all match. Built by :func:`parse_fulltext`, never empty."""

    terms: tuple[Term, ...]


def parse_fulltext(text: str) -> FullTextQuery:
    """The query ``text`` asks for; :class:`InvalidInput` (path ``/q``) when it has no
    searchable word or is too long."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput.at(QUERY_PATH, f"is longer than {MAX_QUERY_CHARS} characters")
    segments = list(_SEGMENT.finditer(text))
    terms: list[Term] = []
    for position, segment in enumerate(segments):
        quoted, star_after_quote, bare = segment.groups()
        words = tuple(fulltext_tokens(quoted if bare is None else bare))
        if not words:
            continue
        last = position == len(segments) - 1
        prefix = last and (bool(star_after_quote) or (bare is not None and bare.endswith("*")))
        terms.append(Term(words, prefix))
    return full_text_query(terms)


def text_term(text: str, *, phrase: bool) -> Term | None:
    """One word or quoted phrase of the query language as a term: a word ending in ``*``
    is a prefix (wherever it stands), a phrase never is; ``None`` when ``text`` holds no
    searchable word (punctuation, symbols)."""
    words = tuple(fulltext_tokens(text))
    if not words:
        return None
    return Term(words, prefix=not phrase and text.endswith("*"))


def full_text_query(terms: list[Term]) -> FullTextQuery:
    """``terms`` as one query, within the limits; :class:`InvalidInput` (path ``/q``)
    when there is no term or a word or the whole is too long."""
    if not terms:
        raise InvalidInput.at(
            QUERY_PATH, "has no word to search for: type letters or digits"
        )
    too_long = next((w for t in terms for w in t.words if len(w) > MAX_WORD_CHARS), None)
    if too_long is not None:
        raise InvalidInput.at(
            QUERY_PATH, f"has a word longer than {MAX_WORD_CHARS} characters"
        )
    if sum(len(t.words) for t in terms) > MAX_TERMS:
        raise InvalidInput.at(QUERY_PATH, f"has more than {MAX_TERMS} words")
    return FullTextQuery(tuple(terms))


class FullTextBackend(Protocol):
    """The full text query of one backend.

    ``select`` returns one row per matching asset, columns ``asset_id`` (``assets.id``) and
    ``rank`` (a float, lower is better; only its order means anything, and it is not
    comparable across backends). Invariant: for the same data and query, every backend
    returns the same set of ``asset_id``; ties may come in any order. Cost: an index
    lookup per word (FTS5 doclists; the GIN index on PostgreSQL) plus ranking each hit, so
    a word that matches most of the registry costs time in proportion to its hits: put
    a LIMIT on the caller's ORDER BY rank, or narrow by other filters first.
    """

    def select(self, query: FullTextQuery) -> sa.Select[Any]:
        ...


class SQLiteFullText:
    """FTS5 ``MATCH`` with every word quoted, ranked by ``bm25()`` with column weights."""

    _table = sa.table("assets_fts", sa.column("rowid", sa.Integer))

    def select(self, query: FullTextQuery) -> sa.Select[Any]:
        fts: sa.ColumnElement[Any] = sa.literal_column("assets_fts")
        return sa.select(
            self._table.c.rowid.label("asset_id"),
            sa.func.bm25(fts, *FTS5_WEIGHTS, type_=sa.Float).label("rank"),
        ).where(fts.op("MATCH")(sa.bindparam("fulltext", _fts5_expression(query), unique=True)))


def _fts5_quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts5_expression(query: FullTextQuery) -> str:
    """``"fraud" AND "fraud" + "detector"`` ...: quoted strings joined by FTS5 operators we
    chose, so nothing a user typed is read as FTS5 syntax."""
    phrases = []
    for term in query.terms:
        phrase = " + ".join(_fts5_quote(w) for w in term.words)
        phrases.append(phrase + " *" if term.prefix else phrase)
    return " AND ".join(phrases)


class PostgreSQLFullText:
    """``search_document @@ tsquery``, ranked by ``ts_rank_cd`` (negated: lower is better).

    The tsquery is built in the database by ``modelatlas_fts_phrase`` from bound
    parameters, so its words are split by the same function as the documents' words;
    ``plainto_tsquery``/``to_tsquery`` would split them with PostgreSQL's own parser,
    which does not split ``fraud-detector`` as the documents were split.
    """

    _document = sa.column("search_document", postgresql.TSVECTOR)
    _table = sa.table("assets", sa.column("id", sa.BigInteger), _document)

    def select(self, query: FullTextQuery) -> sa.Select[Any]:
        # unique bind names: a caller may OR two full text selects into one statement
        parts: list[sa.ColumnElement[Any]] = [
            sa.func.modelatlas_fts_phrase(
                sa.bindparam("fulltext", " ".join(t.words), type_=sa.Text, unique=True),
                sa.bindparam("fulltext_prefix", t.prefix, type_=sa.Boolean, unique=True),
                type_=postgresql.TSQUERY,
            )
            for i, t in enumerate(query.terms)
        ]
        tsquery = reduce(lambda a, b: a.op("&&", return_type=postgresql.TSQUERY)(b), parts)
        weights: sa.ColumnElement[Any] = sa.literal_column(
            "'{" + ",".join(map(str, TSVECTOR_WEIGHTS)) + "}'::float4[]"
        )
        rank = -sa.func.ts_rank_cd(weights, self._table.c.search_document, tsquery,
                                   type_=sa.Float)
        return sa.select(
            self._table.c.id.label("asset_id"), rank.label("rank")
        ).where(self._table.c.search_document.op("@@")(tsquery))


_BACKENDS: dict[str, FullTextBackend] = {
    "sqlite": SQLiteFullText(),
    "postgresql": PostgreSQLFullText(),
}


def fulltext_backend(dialect: str) -> FullTextBackend:
    """The full text implementation of a dialect (``sqlite`` or ``postgresql``)."""
    try:
        return _BACKENDS[dialect]
    except KeyError:
        raise ValueError(f"no full text search for database {dialect!r}") from None


def matching(text: str, dialect: str) -> sa.Select[Any]:
    """Assets whose text matches every word of ``text``: a SELECT of ``asset_id`` and
    ``rank`` (lower is better) to join with ``assets`` or use as a subquery.

    Raises :class:`InvalidInput` (path ``/q``) for text without a searchable word.
    """
    return fulltext_backend(dialect).select(parse_fulltext(text))
