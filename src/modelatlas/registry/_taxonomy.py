"""The service layer's taxonomy operations, mixed into :class:`Registry`.

Every change to the vocabulary runs in one write transaction and appends one event
(``taxonomy.*``, with ``ref`` = ``taxonomy:<term>``, or ``taxonomy`` for a whole
document), so the vocabulary's history is in the same log as the assets'.

Access: the vocabulary is the registry's, not a namespace's. Any authenticated caller
reads it (the API authenticates every route); changing it is ``taxonomy.manage``, which
only a registry-wide grant (namespace ``*``, maintainer or above) gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from modelatlas.errors import Conflict, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.jsonsafe import check_tree
from modelatlas.registry._rows import check_limit
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.types import Page
from modelatlas.search import taxonomy as tx_domain
from modelatlas.search.taxonomy import Expansion, LoadSummary, Term, Vocabulary
from modelatlas.search.vocabulary import MAX_SYNONYMS

if TYPE_CHECKING:
    from modelatlas.governance.principal import Principal
    from modelatlas.registry._tx import WriteTx

MAX_DESCRIPTION = 2000
VOCABULARY_NAMESPACE = "*"  # whose grants decide a change: the registry-wide ones
VocabularyInput = Vocabulary | Mapping[str, Any] | str | bytes


def _term_event(term: Term, **extra: Any) -> dict[str, Any]:
    return {"term": term.term, "parent": term.parent, "description": term.description,
            "synonyms": term.synonyms, **extra}


@contextmanager
def _retry_hint() -> Iterator[None]:
    """A unique constraint that a concurrent writer won (PostgreSQL, before our lock) is a
    conflict to retry, not a server error."""
    try:
        yield
    except IntegrityError:
        raise Conflict("the vocabulary changed concurrently; retry") from None


class TaxonomyService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`: methods here may use
    ``self.db``, ``self.settings`` and ``self._write(actor)`` as the other service methods do."""

    def _may_manage(self, principal: Principal | None, ref: str, actor: str | None) -> str | None:
        """Allow a vocabulary change (or record the refusal and raise 403); whom its event
        names."""
        self.authorize(principal, "taxonomy.manage", VOCABULARY_NAMESPACE, ref=ref)
        return self.acting(principal, actor)

    # reads -----------------------------------------------------------------------------
    def taxonomy_terms(
        self, *, under: str | None = None, cursor: str | None = None, limit: int = 100,
        principal: Principal | None = None,
    ) -> Page[Term]:
        """Terms in name order, optionally only ``under`` a term (itself included). Open to
        every caller, as the other vocabulary reads are (``principal`` is not checked)."""
        del principal
        check_limit(limit, self.settings.page_limit_max)
        if under is not None:
            under = tx_domain.check_label(under, "/under")
        with self.db.read() as conn:
            items, next_cursor = tx_domain.list_terms(
                conn, under=under, cursor=cursor, limit=limit
            )
        return Page[Term](items=items, next_cursor=next_cursor)

    def get_term(self, term: str, *, principal: Principal | None = None) -> Term:
        """A term by name or through one of its synonyms."""
        del principal  # open to every caller
        label = tx_domain.check_label(term, "/term")
        with self.db.read() as conn:
            found = tx_domain.get_term(conn, label)
        if found is None:
            raise NotFound(f"no term {label} in the vocabulary",
                           errors=[FieldError("/term", "not in the vocabulary")])
        return found

    def expand_tag(self, tag: str, *, principal: Principal | None = None) -> Expansion:
        """What a search for ``tag`` matches: its canonical term, every narrower term and
        every synonym of each; a tag outside the vocabulary matches only itself."""
        del principal  # open to every caller
        tx_domain.check_label(tag, "/tag")
        with self.db.read() as conn:
            return tx_domain.expansion(conn, tag.strip())

    def unknown_tags(self, tags: Sequence[str]) -> list[str]:
        """The tags outside the vocabulary (allowed on assets; reported, not refused)."""
        with self.db.read() as conn:
            return tx_domain.unknown_tags(conn, list(tags))

    # writes ----------------------------------------------------------------------------
    def set_term(
        self,
        term: str,
        *,
        parent: str | None = None,
        description: str = "",
        synonyms: Sequence[str] | None = None,
        actor: str | None = None,
        principal: Principal | None = None,
    ) -> Term:
        """Create or update ``term``: parent and description become what is given;
        synonyms are replaced when given and kept when None."""
        name = tx_domain.check_term(term, "/term")
        parent_name = tx_domain.check_term(parent, "/parent") if parent else None
        if parent_name == name:
            raise InvalidInput.at("/parent", "a term cannot be its own parent")
        check_tree(description, path="/description")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput.at("/description", f"at most {MAX_DESCRIPTION} characters")
        labels = None
        if synonyms is not None:
            if len(synonyms) > MAX_SYNONYMS:
                raise InvalidInput.at("/synonyms", f"at most {MAX_SYNONYMS}")
            found = [tx_domain.check_label(s, f"/synonyms/{i}") for i, s in enumerate(synonyms)]
            labels = list(dict.fromkeys(found))
        actor = self._may_manage(principal, f"taxonomy:{name}", actor)
        with _retry_hint(), self._write(actor) as tx:
            stored, created = tx_domain.write_term(
                tx.conn, name, parent=parent_name, description=description, synonyms=labels,
                stamp={"updated_at": tx.now, "updated_by": tx.actor},
            )
            tx.emit(Action.TAXONOMY_TERM_SET, f"taxonomy:{name}",
                    _term_event(stored, created=created), None)
        return stored

    def remove_term(self, term: str, *, actor: str | None = None,
                    principal: Principal | None = None) -> Term:
        """Remove a term and its synonyms (409 while it has narrower terms)."""
        name = tx_domain.check_label(term, "/term")
        actor = self._may_manage(principal, f"taxonomy:{name}", actor)
        with self._write(actor) as tx:
            removed = tx_domain.delete_term(tx.conn, name)
            tx.emit(Action.TAXONOMY_TERM_REMOVED, f"taxonomy:{name}", _term_event(removed), None)
        return removed

    def add_synonym(self, term: str, synonym: str, *, actor: str | None = None,
                    principal: Principal | None = None) -> Term:
        """Make ``synonym`` resolve to ``term`` (no change, no event, when it already does)."""
        name = tx_domain.check_label(term, "/term")
        label = tx_domain.check_label(synonym, "/synonym")
        actor = self._may_manage(principal, f"taxonomy:{name}", actor)
        with _retry_hint(), self._write(actor) as tx:
            stamp = {"updated_at": tx.now, "updated_by": tx.actor}
            if tx_domain.add_synonym(tx.conn, name, label, stamp):
                tx.emit(Action.TAXONOMY_SYNONYM_SET, f"taxonomy:{name}",
                        {"term": name, "synonym": label}, None)
            stored = tx_domain.get_term(tx.conn, name)
        assert stored is not None
        return stored

    def remove_synonym(self, synonym: str, *, actor: str | None = None,
                       principal: Principal | None = None) -> Term:
        """Remove a synonym; the term it belonged to, as it is now."""
        label = tx_domain.check_label(synonym, "/synonym")
        actor = self._may_manage(principal, "taxonomy", actor)
        with self._write(actor) as tx:
            stamp = {"updated_at": tx.now, "updated_by": tx.actor}
            owner = tx_domain.delete_synonym(tx.conn, label, stamp)
            tx.emit(Action.TAXONOMY_SYNONYM_REMOVED, f"taxonomy:{owner}",
                    {"term": owner, "synonym": label}, None)
            stored = tx_domain.get_term(tx.conn, owner)
        assert stored is not None
        return stored

    def load_vocabulary(
        self, document: VocabularyInput, *, replace: bool = False, actor: str | None = None,
        principal: Principal | None = None,
    ) -> LoadSummary:
        """Load a vocabulary document (YAML text, a mapping, or a :class:`Vocabulary`) in
        one transaction with one ``taxonomy.loaded`` event. Its terms are created or
        updated as it states them; with ``replace`` every other term is removed."""
        vocab = tx_domain.parse_vocabulary(document)
        actor = self._may_manage(principal, "taxonomy", actor)
        with _retry_hint(), self._write(actor) as tx:
            return _load(tx, vocab, replace=replace)

    def ensure_default_vocabulary(self, *, actor: str | None = None) -> LoadSummary | None:
        """Load the vocabulary ModelAtlas ships when the registry has none; None (and
        nothing written) when it has one. Idempotent: ``init`` and ``demo`` both call it."""
        with self.db.read() as conn:
            if not tx_domain.is_empty(conn):
                return None
        vocab = tx_domain.parse_vocabulary(tx_domain.default_vocabulary())
        with _retry_hint(), self._write(actor) as tx:
            tx_domain.lock(tx.conn)
            if not tx_domain.is_empty(tx.conn):  # another process loaded it meanwhile
                return None
            return _load(tx, vocab, replace=False, default=True)


def _load(tx: WriteTx, vocab: Vocabulary, *, replace: bool, default: bool = False) -> LoadSummary:
    flat = tx_domain.flatten(vocab)
    created, updated, removed = tx_domain.apply_vocabulary(
        tx.conn, flat, replace=replace, stamp={"updated_at": tx.now, "updated_by": tx.actor}
    )
    summary = LoadSummary(
        replace=replace, terms=len(flat), synonyms=sum(len(f.synonyms) for f in flat),
        created=created, updated=updated, removed=removed,
        sha256=tx_domain.document_digest(vocab),
    )
    payload = summary.model_dump()
    if default:
        payload["default"] = True
    tx.emit(Action.TAXONOMY_LOADED, "taxonomy", payload, None)
    return summary
