"""The service layer's suggestions, related assets and usage signals, mixed into
:class:`Registry`.

Usage signals are not events: they change no asset, and one per page view would drown the
audit log. They are stored in the database (``asset_usage``, ``term_usage``) in their own
short write transaction. A signal a read triggers (an asset opened, a search run) never
fails that read: a failure to record it is logged and the read goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from modelatlas.errors import InvalidInput, ModelAtlasError
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._rows import asset_from_row, check_limit
from modelatlas.registry._usage_queue import UsageQueue
from modelatlas.registry.types import Asset
from modelatlas.search import related as related_domain
from modelatlas.search import suggest as suggest_domain
from modelatlas.search import usage
from modelatlas.search.parser import MAX_LENGTH
from modelatlas.search.suggest import MAX_TOKEN, Suggestion
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from modelatlas.config import Settings
    from modelatlas.registry._tx import WriteTx
    from modelatlas.search.ast import Node
    from modelatlas.store.engine import Database

_QUEUE_LOCK = threading.Lock()
MAX_SUGGEST = 50
ClientSignal = Literal["opened", "pulled", "deployed"]


class RelatedAsset(BaseModel):
    asset: Asset
    score: float
    reasons: list[str]


class UsageSignal(BaseModel):
    """A client's report that an asset was opened, pulled or deployed."""

    model_config = ConfigDict(extra="forbid")

    signal: ClientSignal
    ref: str


class SuggestService:
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        db: Database
        settings: Settings

        def _write(self, actor: str | None) -> AbstractContextManager[WriteTx]: ...

    def suggest(self, q: str, *, limit: int = 10, now: float | None = None) -> list[Suggestion]:
        """Completions of the last token of ``q``, best first (docs/query-language.md)."""
        if not isinstance(q, str) or len(q) > MAX_LENGTH:
            raise InvalidInput.at("/q", f"a string of at most {MAX_LENGTH} characters")
        if len(suggest_domain.last_token(q)) > MAX_TOKEN:
            raise InvalidInput.at("/q", f"the last token is at most {MAX_TOKEN} characters")
        if any(ch == "\x00" for ch in q):
            raise InvalidInput.at("/q", "no NUL characters")
        check_limit(limit, MAX_SUGGEST)
        self.flush_usage()  # this process reads its own signals
        with self.db.read() as conn:
            return suggest_domain.suggest(
                conn, q, limit=limit, now=time.time() if now is None else now,
                half_life_days=self.settings.usage_half_life_days,
                recent=self._recent_values(),
            )

    def _recent_values(self) -> suggest_domain.RecentValues:
        with _QUEUE_LOCK:
            recent: suggest_domain.RecentValues | None = getattr(self, "_recent", None)
            if recent is None:
                recent = self._recent = suggest_domain.RecentValues()
        return recent

    def related(self, ref: str | Ref, *, limit: int = 10) -> list[RelatedAsset]:
        """Assets sharing datasets, features, tags or lineage with ``ref``, best first."""
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        check_limit(limit, MAX_SUGGEST)
        self.flush_usage()
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            found = related_domain.related(conn, asset_id, limit=limit)
            rows = {row.id: row for row in conn.execute(
                assets.select().where(assets.c.id.in_([f.asset_id for f in found])))}
        return [RelatedAsset(asset=asset_from_row(rows[f.asset_id]), score=f.score,
                             reasons=f.reasons) for f in found]

    # usage ------------------------------------------------------------------------------
    def record_usage(self, signal: str, ref: str | Ref, *, at: float | None = None) -> None:
        """Record that ``ref`` was opened, pulled or deployed (404 for an unknown asset).
        ``at`` (epoch seconds, default now) lets imports and tests date a signal."""
        if signal not in usage.CLIENT_SIGNALS:
            raise InvalidInput.at("/signal", f"one of {', '.join(usage.CLIENT_SIGNALS)}")
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        with self._write(None) as tx:
            asset_id = q.require_id(tx.conn, parsed, "/ref")
            self._add_usage(tx.conn, {asset_id: usage.WEIGHTS[signal]}, {}, at)

    def _add_usage(self, conn: Connection, by_id: dict[int, float], terms: dict[str, float],
                   at: float | None) -> None:
        usage.record(conn, assets=by_id, terms=terms, at=time.time() if at is None else at,
                     half_life_days=self.settings.usage_half_life_days)

    def note_usage(self, signal: str, refs: Sequence[str | Ref] = (),
                   terms: Sequence[str] = ()) -> None:
        """Record a signal a read or a write triggered, never failing or slowing it: it is
        queued and written behind (see ``_usage_queue``); unknown refs are skipped."""
        self._usage_queue().put((signal, tuple(refs), tuple(terms), time.time()))

    def flush_usage(self) -> None:
        """Wait until every triggered signal so far is in the database."""
        self._usage_queue().flush()

    def _usage_queue(self) -> UsageQueue:
        found: UsageQueue | None = self.__dict__.get("_usage")
        if found is None:
            with _QUEUE_LOCK:
                found = self.__dict__.get("_usage")
                if found is None:
                    found = UsageQueue(self._write_usage)
                    self.__dict__["_usage"] = found
        return found

    def _write_usage(self, signals: list[tuple[Any, ...]]) -> None:
        """One transaction for a batch of queued signals."""
        with self._write(None) as tx:
            for signal, refs, terms, at in signals:
                ids = {}
                for ref in refs:
                    parsed = ref if isinstance(ref, Ref) else Ref.parse(ref)
                    found = q.find_id(tx.conn, parsed)
                    if found is not None:
                        ids[found] = usage.WEIGHTS[signal]
                if ids or terms:
                    self._add_usage(tx.conn, ids, usage.weights(terms, signal), at)

    def note_search(self, tree: Node) -> None:
        terms, named = usage.query_terms(tree)
        refs = []
        for kind, ns, name, version in named:
            try:
                refs.append(Ref.of(kind, ns, name, version))
            except ModelAtlasError:
                continue  # "any version" of a kind that is always versioned: no one asset
        if terms or refs:
            self.note_usage("searched", refs, terms)
