"""Semantic tags: a controlled vocabulary of terms in a hierarchy, with synonyms.

Tags on assets stay free text; the vocabulary interprets them. ``task:classification``
contains ``task:classification/binary``; ``nlp`` is a synonym of
``natural-language-processing``. Search calls :func:`expand_tag` to turn the tag a user
typed into every tag that means it or something narrower; a tag outside the vocabulary is
allowed and only reported (:func:`unknown_tags`).

Terms follow a small grammar (lowercase ``family:name/narrower``); synonyms are any label
people actually type. Both are compared in one normal form (NFC, trimmed, lowercase), so
``NLP`` finds what ``nlp`` finds. The hierarchy is walked in the database with recursive
CTEs bounded by :data:`MAX_DEPTH`; writes keep it a forest (no cycles, not deeper).

This module reads and writes inside the caller's transaction; the service layer
(:mod:`modelatlas.registry`) opens it and appends the events.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from modelatlas.errors import AlreadyExists, Conflict, FieldError, InvalidInput, NotFound
from modelatlas.search.vocabulary import (
    MAX_DEPTH,
    TERM_GRAMMAR,
    FlatTerm,
    TermSpec,
    Vocabulary,
    check_label,
    check_term,
    default_vocabulary,
    document_digest,
    flatten,
    normalize,
    parse_vocabulary,
)
from modelatlas.store.tables import taxonomy_synonyms as syn_t
from modelatlas.store.tables import taxonomy_terms as term_t

__all__ = [
    "MAX_DEPTH",
    "Expansion",
    "LoadSummary",
    "Term",
    "TermSpec",
    "Vocabulary",
    "add_synonym",
    "apply_vocabulary",
    "canonical",
    "check_label",
    "check_term",
    "default_vocabulary",
    "delete_synonym",
    "delete_term",
    "document_digest",
    "expand_tag",
    "expansion",
    "flatten",
    "get_term",
    "is_empty",
    "list_terms",
    "lock",
    "normalize",
    "parse_vocabulary",
    "unknown_tags",
    "write_term",
]


# --- values on the wire ----------------------------------------------------------------------
class Term(BaseModel):
    """A canonical term as stored."""

    term: str
    parent: str | None = None
    description: str = ""
    synonyms: list[str] = Field(default_factory=list)
    children: list[str] = Field(default_factory=list)
    updated_at: str
    updated_by: str


class Expansion(BaseModel):
    """What a tag means: its canonical term (None outside the vocabulary) and every tag
    a search for it matches."""

    tag: str
    canonical: str | None
    tags: list[str]


class LoadSummary(BaseModel):
    """What loading a vocabulary document did."""

    replace: bool
    terms: int
    synonyms: int
    created: int
    updated: int
    removed: int
    sha256: str = Field(description="of the document's canonical JSON form")



# --- reads -------------------------------------------------------------------------------
def _tree(start: sa.ColumnElement[bool]) -> sa.CTE:
    """The terms matching ``start`` and everything below them, to :data:`MAX_DEPTH`."""
    base = (
        sa.select(term_t.c.id, term_t.c.term, sa.literal(0).label("depth"))
        .where(start)
        .cte("tree", recursive=True)
    )
    child = term_t.alias("child")
    return base.union_all(
        sa.select(child.c.id, child.c.term, base.c.depth + 1).where(
            child.c.parent_id == base.c.id, base.c.depth < MAX_DEPTH
        )
    )


def _resolving(tag_param: str) -> sa.ColumnElement[bool]:
    """``id`` is the term a tag names, directly or through a synonym."""
    tag = sa.bindparam(tag_param, type_=sa.String())
    named = sa.union_all(
        sa.select(term_t.c.id).where(term_t.c.term == tag),
        sa.select(syn_t.c.term_id).where(syn_t.c.synonym == tag),
    )
    return term_t.c.id.in_(named)


def _expand_statement() -> sa.Select[Any]:
    tree = _tree(_resolving("tag"))
    return (
        sa.select(tree.c.term, tree.c.depth, syn_t.c.synonym)
        .select_from(tree.outerjoin(syn_t, syn_t.c.term_id == tree.c.id))
        .order_by(tree.c.depth, tree.c.term, syn_t.c.synonym)
    )


# Built once: search expands every tag of every query with it.
_EXPAND = _expand_statement()
_CANONICAL = sa.select(term_t.c.term).where(_resolving("tag"))


def expand_tag(conn: Connection, tag: str) -> list[str]:
    """Every tag a search for ``tag`` (as a user typed it) should match.

    For a tag in the vocabulary (a term or a synonym, in any case): the canonical term
    first, then its synonyms, then each narrower term (breadth first, alphabetical within
    a level) followed by its synonyms; the typed form is appended if it differs from all
    of them. For a tag outside the vocabulary: ``[tag]`` (stripped). One query."""
    typed = tag.strip()
    rows = list(conn.execute(_EXPAND, {"tag": normalize(tag)}))
    if not rows:
        return [typed] if typed else []
    out: dict[str, None] = {}
    for row in rows:
        out.setdefault(row.term, None)
        if row.synonym is not None:
            out.setdefault(row.synonym, None)
    if typed:
        out.setdefault(typed, None)
    return list(out)


def canonical(conn: Connection, tag: str) -> str | None:
    """The canonical term ``tag`` names (itself or through a synonym), or None."""
    value = conn.execute(_CANONICAL, {"tag": normalize(tag)}).scalar()
    return None if value is None else str(value)


def expansion(conn: Connection, tag: str) -> Expansion:
    return Expansion(tag=tag, canonical=canonical(conn, tag), tags=expand_tag(conn, tag))


def unknown_tags(conn: Connection, tags: Sequence[str]) -> list[str]:
    """The tags (as given, in order, once each) that are neither a term nor a synonym."""
    wanted = {normalize(t) for t in tags if t.strip()}
    if not wanted:
        return []
    known: set[str] = set()
    for chunk in _chunks(sorted(wanted), 500):
        known.update(conn.execute(sa.select(term_t.c.term).where(term_t.c.term.in_(chunk)))
                     .scalars())
        known.update(conn.execute(sa.select(syn_t.c.synonym).where(syn_t.c.synonym.in_(chunk)))
                     .scalars())
    out: dict[str, None] = {}
    for tag in tags:
        if tag.strip() and normalize(tag) not in known:
            out.setdefault(tag.strip(), None)
    return list(out)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def encode_cursor(term: str) -> str:
    return base64.urlsafe_b64encode(term.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The last term of the previous page; a cursor we did not issue is a 422."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        term = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        term = ""
    if not TERM_GRAMMAR.fullmatch(term):
        raise InvalidInput("cursor is not one this registry issued; start again without it",
                           errors=[FieldError("/cursor", "unknown cursor")])
    return term


def _terms_from_rows(conn: Connection, rows: list[Any]) -> list[Term]:
    """Terms with their synonyms and children: two more queries for the whole page."""
    ids = [row.id for row in rows]
    synonyms: dict[int, list[str]] = {i: [] for i in ids}
    children: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for term_id, synonym in conn.execute(
            sa.select(syn_t.c.term_id, syn_t.c.synonym)
            .where(syn_t.c.term_id.in_(ids)).order_by(syn_t.c.synonym)
        ):
            synonyms[term_id].append(synonym)
        for parent_id, term in conn.execute(
            sa.select(term_t.c.parent_id, term_t.c.term)
            .where(term_t.c.parent_id.in_(ids)).order_by(term_t.c.term)
        ):
            children[parent_id].append(term)
    return [
        Term(term=row.term, parent=row.parent, description=row.description,
             synonyms=synonyms[row.id], children=children[row.id],
             updated_at=row.updated_at, updated_by=row.updated_by)
        for row in rows
    ]


def _term_columns() -> sa.Select[Any]:
    parent = term_t.alias("parent")
    return sa.select(
        term_t.c.id, term_t.c.term, parent.c.term.label("parent"), term_t.c.description,
        term_t.c.updated_at, term_t.c.updated_by,
    ).select_from(term_t.outerjoin(parent, parent.c.id == term_t.c.parent_id))


def get_term(conn: Connection, tag: str) -> Term | None:
    """The term ``tag`` names (a synonym gives its canonical term), or None."""
    row = conn.execute(_term_columns().where(_resolving("tag")), {"tag": normalize(tag)}).first()
    return None if row is None else _terms_from_rows(conn, [row])[0]


def list_terms(
    conn: Connection, *, under: str | None, cursor: str | None, limit: int
) -> tuple[list[Term], str | None]:
    """A page of terms in name order (so a family's terms sit together), optionally only
    ``under`` a term (itself included); and the cursor of the next page."""
    stmt = _term_columns()
    params: dict[str, Any] = {}
    if under is not None:
        tree = _tree(_resolving("under"))
        stmt = stmt.where(term_t.c.id.in_(sa.select(tree.c.id)))
        params["under"] = normalize(under)
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(term_t.c.term > after)
    rows = list(conn.execute(stmt.order_by(term_t.c.term).limit(limit + 1), params))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].term) if more and rows else None
    return _terms_from_rows(conn, rows), next_cursor


def is_empty(conn: Connection) -> bool:
    return conn.execute(sa.select(term_t.c.id).limit(1)).first() is None


# --- writes (inside the service layer's transaction) --------------------------------------
# Vocabulary writes check rules across rows (a synonym is not a term; the hierarchy has no
# cycle) that no constraint can state, so writers take turns: on PostgreSQL an advisory
# lock held to commit; on SQLite the writer already holds the database (BEGIN IMMEDIATE).
_LOCK_KEY = 0x7A78_6F6E  # "taxonomy" writers, one number for the whole database


def lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def shape_problems(conn: Connection) -> tuple[list[str], list[str]]:
    """Terms deeper than :data:`MAX_DEPTH` and terms on a cycle (not reachable from a
    root), a few of each: the whole forest walked once from its roots, in the database."""
    base = (
        sa.select(term_t.c.id, term_t.c.term, sa.literal(0).label("depth"))
        .where(term_t.c.parent_id.is_(None))
        .cte("forest", recursive=True)
    )
    child = term_t.alias("child")
    forest = base.union_all(
        sa.select(child.c.id, child.c.term, base.c.depth + 1).where(
            child.c.parent_id == base.c.id, base.c.depth <= MAX_DEPTH
        )
    )
    deep = list(conn.execute(
        sa.select(forest.c.term).where(forest.c.depth > MAX_DEPTH).order_by(forest.c.term)
        .limit(5)
    ).scalars())
    if deep:
        return deep, []
    cyclic = list(conn.execute(
        sa.select(term_t.c.term).where(term_t.c.id.not_in(sa.select(forest.c.id)))
        .order_by(term_t.c.term).limit(5)
    ).scalars())
    return [], cyclic


def _shape_error(deep: list[str], cyclic: list[str], path: str) -> InvalidInput | None:
    if deep:
        return InvalidInput.at(path, f"the hierarchy would be deeper than {MAX_DEPTH} levels "
                                     f"at {', '.join(deep)}")
    if cyclic:
        return InvalidInput.at(path, "a term cannot be below itself: this would form a cycle "
                                     f"through {', '.join(cyclic)}")
    return None


def _check_shape(conn: Connection, path: str) -> None:
    error = _shape_error(*shape_problems(conn), path)
    if error is not None:
        raise error


def _term_id(conn: Connection, term: str) -> int | None:
    value = conn.execute(sa.select(term_t.c.id).where(term_t.c.term == term)).scalar()
    return None if value is None else int(value)


def _owner_of_synonym(conn: Connection, label: str) -> str | None:
    value = conn.execute(
        sa.select(term_t.c.term).join(syn_t, syn_t.c.term_id == term_t.c.id)
        .where(syn_t.c.synonym == label)
    ).scalar()
    return None if value is None else str(value)


def require_term_id(conn: Connection, term: str, path: str = "/term") -> int:
    """The id of a canonical term, named exactly: a write never acts on a term reached
    through a synonym (removing ``nlp`` must not remove natural-language-processing)."""
    term_id = _term_id(conn, term)
    if term_id is not None:
        return term_id
    owner = _owner_of_synonym(conn, term)
    hint = f"{term} is a synonym of {owner}" if owner else f"no term {term}"
    raise NotFound(f"{hint} in the vocabulary", errors=[FieldError(path, hint)])


def _check_synonyms(conn: Connection, term: str, labels: list[str], path: str) -> None:
    """Each synonym is not a term and belongs to no other term (409 otherwise)."""
    for i, label in enumerate(labels):
        where = f"{path}/{i}"
        if label == term or _term_id(conn, label) is not None:
            raise AlreadyExists(f"{label} is a term, so it cannot be a synonym",
                                errors=[FieldError(where, "is a term")])
        owner = _owner_of_synonym(conn, label)
        if owner is not None and owner != term:
            raise AlreadyExists(f"{label} is already a synonym of {owner}",
                                errors=[FieldError(where, f"a synonym of {owner}")])


def write_term(
    conn: Connection,
    term: str,
    *,
    parent: str | None,
    description: str,
    synonyms: list[str] | None,
    stamp: Mapping[str, str],
) -> tuple[Term, bool]:
    """Create or update a term (parent and description as given; synonyms replaced when
    given, kept when None); the stored term and whether it was created."""
    lock(conn)
    owner = _owner_of_synonym(conn, term)
    if owner is not None:
        raise AlreadyExists(f"{term} is a synonym of {owner}; set {owner} or remove the "
                            "synonym first", errors=[FieldError("/term", f"synonym of {owner}")])
    parent_id = None
    if parent is not None:
        parent_id = _term_id(conn, parent)
        if parent_id is None:
            raise InvalidInput.at("/parent", f"no term {parent} in the vocabulary")
    values = {"parent_id": parent_id, "description": description, **stamp}
    term_id = _term_id(conn, term)
    if term_id is not None and parent_id is not None:
        below = _tree(term_t.c.id == term_id)
        if conn.execute(sa.select(below.c.id).where(below.c.id == parent_id)).first():
            raise InvalidInput.at("/parent", f"{parent} is below {term}: a term cannot be "
                                             "below itself")
    created = term_id is None
    if term_id is None:
        term_id = conn.execute(
            term_t.insert().values(term=term, **values).returning(term_t.c.id)
        ).scalar_one()
    else:
        conn.execute(term_t.update().where(term_t.c.id == term_id).values(values))
    if synonyms is not None:
        _check_synonyms(conn, term, synonyms, "/synonyms")
        conn.execute(syn_t.delete().where(syn_t.c.term_id == term_id))
        if synonyms:
            conn.execute(syn_t.insert(), [{"synonym": s, "term_id": term_id} for s in synonyms])
    _check_shape(conn, "/parent")
    stored = get_term(conn, term)
    assert stored is not None  # written above, in this transaction
    return stored, created


def delete_term(conn: Connection, term: str) -> Term:
    """Remove a term and its synonyms; refused (409) while narrower terms hang below it."""
    lock(conn)
    term_id = require_term_id(conn, term)
    stored = get_term(conn, term)
    assert stored is not None
    if stored.children:
        shown = ", ".join(stored.children[:5]) + (" ..." if len(stored.children) > 5 else "")
        raise Conflict(
            f"{term} has narrower terms ({shown}); remove or move them first",
            errors=[FieldError("/term", f"has {len(stored.children)} narrower terms")],
        )
    conn.execute(syn_t.delete().where(syn_t.c.term_id == term_id))
    conn.execute(term_t.delete().where(term_t.c.id == term_id))
    return stored


def add_synonym(conn: Connection, term: str, synonym: str, stamp: Mapping[str, str]) -> bool:
    """Make ``synonym`` resolve to ``term``; False when it already does."""
    lock(conn)
    term_id = require_term_id(conn, term)
    if _owner_of_synonym(conn, synonym) == term:
        return False
    _check_synonyms(conn, term, [synonym], "/synonyms")
    conn.execute(syn_t.insert().values(synonym=synonym, term_id=term_id))
    conn.execute(term_t.update().where(term_t.c.id == term_id).values(**stamp))
    return True


def delete_synonym(conn: Connection, synonym: str, stamp: Mapping[str, str]) -> str:
    """Remove a synonym; the term it belonged to."""
    lock(conn)
    owner = _owner_of_synonym(conn, synonym)
    if owner is None:
        raise NotFound(f"{synonym} is not a synonym in the vocabulary",
                       errors=[FieldError("/synonym", "no such synonym")])
    conn.execute(syn_t.delete().where(syn_t.c.synonym == synonym))
    conn.execute(term_t.update().where(term_t.c.term == owner).values(**stamp))
    return owner


def _ids_of(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(names)), 500):
        found.update((t, int(i)) for t, i in conn.execute(
            sa.select(term_t.c.term, term_t.c.id).where(term_t.c.term.in_(chunk))))
    return found


def _owners(conn: Connection, labels: Sequence[str]) -> dict[str, str]:
    """synonym -> the term it belongs to, for those of ``labels`` that are synonyms."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(labels)), 500):
        rows = conn.execute(
            sa.select(syn_t.c.synonym, term_t.c.term)
            .join(term_t, term_t.c.id == syn_t.c.term_id).where(syn_t.c.synonym.in_(chunk))
        )
        found.update((str(label), str(term)) for label, term in rows)
    return found


def _check_against_stored(conn: Connection, flat: list[FlatTerm]) -> None:
    """Merging: what the document names must not clash with terms it leaves alone."""
    names = {f.term for f in flat}
    synonym_paths = {s: f"{f.path}/synonyms/{i}" for f in flat for i, s in enumerate(f.synonyms)}
    for label in sorted(set(_ids_of(conn, list(synonym_paths))) - names):
        raise AlreadyExists(f"{label} is a term in the vocabulary, so it cannot be a synonym",
                            errors=[FieldError(synonym_paths[label], "is a term")])
    for label, owner in sorted(_owners(conn, list(synonym_paths)).items()):
        if owner not in names:
            raise AlreadyExists(f"{label} is already a synonym of {owner}",
                                errors=[FieldError(synonym_paths[label], f"synonym of {owner}")])
    term_owners = _owners(conn, list(names))
    for f in flat:
        holder = term_owners.get(f.term)
        if holder is not None and holder not in names:
            raise AlreadyExists(f"{f.term} is a synonym of {holder} in the vocabulary",
                                errors=[FieldError(f"{f.path}/term", f"synonym of {holder}")])


def _clear_for_replace(conn: Connection, keep: set[str]) -> int:
    """Replacing: detach everything, drop every synonym and every term not kept."""
    conn.execute(term_t.update().values(parent_id=None))
    conn.execute(syn_t.delete())
    stale = [t for t in conn.execute(sa.select(term_t.c.term)).scalars() if t not in keep]
    for chunk in _chunks(stale, 500):
        conn.execute(term_t.delete().where(term_t.c.term.in_(chunk)))
    return len(stale)


def apply_vocabulary(
    conn: Connection, flat: list[FlatTerm], *, replace: bool, stamp: Mapping[str, str]
) -> tuple[int, int, int]:
    """Store a flattened document: its terms created or updated (parent, description and
    synonyms as the document says), and with ``replace`` every other term removed.
    Returns (created, updated, removed)."""
    lock(conn)
    names = {f.term: f for f in flat}
    removed = _clear_for_replace(conn, set(names)) if replace else 0
    if not replace:
        _check_against_stored(conn, flat)
    outside = {f.parent for f in flat if f.parent and f.parent not in names}
    parent_ids = _ids_of(conn, list(outside))
    for f in flat:
        if f.parent in outside and f.parent not in parent_ids:
            raise InvalidInput.at(f"{f.path}/parent", f"no term {f.parent} in the document"
                                  + ("" if replace else " or the vocabulary"))
    existing = _ids_of(conn, list(names))
    if existing:
        conn.execute(syn_t.delete().where(syn_t.c.term_id.in_(list(existing.values()))))
        conn.execute(
            term_t.update().where(term_t.c.id == sa.bindparam("b_id"))
            .values(description=sa.bindparam("b_description"), **stamp),
            [{"b_id": i, "b_description": names[t].description} for t, i in existing.items()],
        )
    new = [f for f in flat if f.term not in existing]
    if new:
        conn.execute(term_t.insert(), [
            {"term": f.term, "parent_id": None, "description": f.description, **stamp}
            for f in new
        ])
    ids = {**parent_ids, **_ids_of(conn, list(names))}
    conn.execute(
        term_t.update().where(term_t.c.id == sa.bindparam("b_id"))
        .values(parent_id=sa.bindparam("b_parent")),
        [{"b_id": ids[f.term], "b_parent": ids[f.parent] if f.parent else None} for f in flat],
    )
    synonyms = [{"synonym": s, "term_id": ids[f.term]} for f in flat for s in f.synonyms]
    if synonyms:
        conn.execute(syn_t.insert(), synonyms)
    deep, cyclic = shape_problems(conn)
    first = (deep or cyclic or [""])[0]
    error = _shape_error(deep, cyclic, f"{names[first].path}/parent" if first in names
                         else "/terms")
    if error is not None:
        raise error
    return len(new), len(existing), removed
