"""The service layer's suggestions, related assets and usage signals, mixed into
:class:`Registry`.

Usage signals are not events: they change no asset, and one per page view would drown the
audit log. They are stored in the database (``asset_usage``, ``term_usage``) in their own
short write transaction. A signal a read triggers (an asset opened, a search run) never
fails that read: a failure to record it is logged and the read goes on.

Access: completions and related assets come only from assets the caller may read (the
filter is in each statement); usage is learned only about readable assets, so a caller
cannot push an asset they may not see up anyone's rankings, nor probe for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError, NotFound
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._pulls import record_pull
from modelatlas.registry._rows import asset_from_row, check_limit
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._usage_queue import UsageQueue
from modelatlas.registry._visibility import (
    bound_visibility,
    readable_in,
    visible_to,
)
from modelatlas.registry.types import Asset
from modelatlas.search import related as related_domain
from modelatlas.search import suggest as suggest_domain
from modelatlas.search import usage
from modelatlas.search.parser import MAX_LENGTH
from modelatlas.search.suggest import MAX_TOKEN, Suggestion
from modelatlas.store.tables import asset_tags, assets

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from modelatlas.governance.grants import Readable
    from modelatlas.governance.principal import Principal
    from modelatlas.search.ast import Node
    from modelatlas.search.visibility import Visible

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


class SuggestService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def suggest(self, q: str, *, limit: int = 10, now: float | None = None,
                principal: Principal | None = None) -> list[Suggestion]:
        """Completions of the last token of ``q``, best first (docs/query-language.md),
        from the assets the caller may read."""
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
                visible=bound_visibility(readable_in(conn, principal)),
            )

    def _recent_values(self) -> suggest_domain.RecentValues:
        with _QUEUE_LOCK:
            recent: suggest_domain.RecentValues | None = getattr(self, "_recent", None)
            if recent is None:
                recent = self._recent = suggest_domain.RecentValues()
        return recent

    def related(self, ref: str | Ref, *, limit: int = 10,
                principal: Principal | None = None) -> list[RelatedAsset]:
        """Assets sharing datasets, features, tags or lineage with ``ref``, best first;
        only those the caller may read (404, recorded, for a ``ref`` they may not)."""
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        check_limit(limit, MAX_SUGGEST)
        self.flush_usage()
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            readable = readable_in(conn, principal)
            allowed = _may_read(conn, readable, parsed, asset_id)
            found = related_domain.related(conn, asset_id, limit=limit,
                                           visible=visible_to(readable)) if allowed else []
            rows = {row.id: row for row in conn.execute(
                assets.select().where(assets.c.id.in_([f.asset_id for f in found])))}
        if not allowed:
            self._refuse_read(principal, parsed, asset_id)
        return [RelatedAsset(asset=asset_from_row(rows[f.asset_id]), score=f.score,
                             reasons=f.reasons) for f in found]

    def _refuse_read(self, principal: Principal | None, ref: Ref, asset_id: int) -> None:
        """Record the denied read and answer as for a missing asset (``authorize_read``
        decides again, from the grants: it raises; the NotFound is its twin, kept for the
        case the two ever disagree, so an unreadable asset is never served)."""
        with self.db.read() as conn:
            tags = _tags(conn, asset_id)
        self.authorize_read(principal, str(ref), ref.namespace, ref.kind, tags)
        raise NotFound(f"{ref} does not exist", errors=[FieldError("/ref", "no such asset")])

    # usage ------------------------------------------------------------------------------
    def record_usage(self, signal: str, ref: str | Ref, *, at: float | None = None,
                     principal: Principal | None = None) -> None:
        """Record that ``ref`` was opened, pulled or deployed (404 for an unknown asset,
        or one the caller may not read). ``at`` (epoch seconds, default now) lets imports
        and tests date a signal."""
        if signal not in usage.CLIENT_SIGNALS:
            raise InvalidInput.at("/signal", f"one of {', '.join(usage.CLIENT_SIGNALS)}")
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        with self._write(None) as tx:
            asset_id = q.require_id(tx.conn, parsed, "/ref")
            allowed = _may_read(tx.conn, readable_in(tx.conn, principal), parsed, asset_id)
            if allowed:
                self._add_usage(tx.conn, {asset_id: usage.WEIGHTS[signal]}, {}, at)
                if signal == "pulled":  # who, too: a deprecation tells their teams
                    record_pull(tx.conn, asset_id, self._caller(principal).person, tx.now)
        if not allowed:
            self._refuse_read(principal, parsed, asset_id)

    def _add_usage(self, conn: Connection, by_id: dict[int, float], terms: dict[str, float],
                   at: float | None) -> None:
        usage.record(conn, assets=by_id, terms=terms, at=time.time() if at is None else at,
                     half_life_days=self.settings.usage_half_life_days)

    def note_usage(self, signal: str, refs: Sequence[str | Ref] = (),
                   terms: Sequence[str] = (), *, visible: Visible | None = None) -> None:
        """Record a signal a read or a write triggered, never failing or slowing it: it is
        queued and written behind (see ``_usage_queue``); unknown refs are skipped, and so
        are those ``visible`` (the caller's read rights; None: all) does not keep."""
        self._usage_queue().put((signal, tuple(refs), tuple(terms), time.time(), visible))

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
        """One transaction and one upsert per table for a batch of queued signals: the
        writer runs behind every search, and its CPU is taken from the searches (the
        GIL), so a batch's refs are looked up once each and its weights added up first."""
        with self._write(None) as tx:
            ids = _RefIds(tx.conn)
            batch = []
            for signal, refs, terms, at, visible in signals:
                found = ids.visible(refs, visible)
                if found or terms:
                    batch.append(usage.Signals(at, dict.fromkeys(found, usage.WEIGHTS[signal]),
                                               usage.weights(terms, signal)))
            usage.record_batch(tx.conn, batch,
                               half_life_days=self.settings.usage_half_life_days)

    def note_search(self, tree: Node, visible: Visible | None = None) -> None:
        terms, named = usage.query_terms(tree)
        refs = []
        for kind, ns, name, version in named:
            try:
                refs.append(Ref.of(kind, ns, name, version))
            except ModelAtlasError:
                continue  # "any version" of a kind that is always versioned: no one asset
        if terms or refs:
            self.note_usage("searched", refs, terms, visible=visible)


def _tags(conn: Connection, asset_id: int) -> list[str]:
    return list(conn.scalars(sa.select(asset_tags.c.tag).where(
        asset_tags.c.asset_id == asset_id)))


def _may_read(conn: Connection, readable: Readable, ref: Ref, asset_id: int) -> bool:
    """The caller may read this one asset (``Readable.allows``, the Python twin of the
    SQL filter); the local user costs no query."""
    if readable.everything:
        return True
    return readable.allows(ref.namespace, ref.kind, _tags(conn, asset_id))


class _RefIds:
    """The ids of a batch's refs, each looked up once (a search of one dataset, repeated,
    names the same ref in every signal), kept where ``visible`` keeps them."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._ids: dict[str | Ref, int | None] = {}
        self._seen: dict[tuple[int, int], bool] = {}

    def visible(self, refs: Sequence[str | Ref], visible: Visible | None) -> list[int]:
        found = []
        for ref in refs:
            asset_id = self._id(ref)
            if asset_id is not None and self._visible(visible, asset_id):
                found.append(asset_id)
        return found

    def _id(self, ref: str | Ref) -> int | None:
        if ref not in self._ids:
            parsed = ref if isinstance(ref, Ref) else Ref.parse(ref)
            self._ids[ref] = q.find_id(self._conn, parsed)
        return self._ids[ref]

    def _visible(self, visible: Visible | None, asset_id: int) -> bool:
        if visible is None:
            return True
        # by the filter's identity: the same object is the same caller's rights
        key = (id(visible), asset_id)
        if key not in self._seen:
            self._seen[key] = _visible(self._conn, visible, asset_id)
        return self._seen[key]


def _visible(conn: Connection, visible: Visible, asset_id: int) -> bool:
    return conn.scalar(sa.select(assets.c.id).where(
        assets.c.id == asset_id, visible(assets))) is not None
