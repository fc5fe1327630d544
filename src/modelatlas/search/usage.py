"""Usage signals: what people search for, open, pull and deploy, learned as weights that
decay with a half-life, so suggestions rank what is used now above what was used once.

Each subject (an asset, or a term such as ``tag:pii``) has one row: its weight as of the
time it was last touched. A new signal is added in one upsert that first decays the stored
weight to the newer of the two times; reads decay it to "now". Decay is
``weight * 0.5 ** (elapsed / half_life)``, computed in SQL with ``power()`` (PostgreSQL;
SQLite's built-in math functions, present since 3.35 in standard builds).

This module writes inside the caller's transaction; the service layer opens it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.bounded import Bounded
from modelatlas.search.ast import Graph, JsonCompare, Match, Node, RefMatch, walk
from modelatlas.store.backends import upsert_insert
from modelatlas.store.tables import asset_usage, term_usage

Signal = Literal["searched", "opened", "pulled", "deployed", "derived"]
_K = TypeVar("_K", int, str)

# How much one signal of each kind weighs: acting on an asset says more than looking at it.
WEIGHTS: dict[str, float] = {
    "searched": 1.0, "opened": 1.0, "pulled": 2.0, "derived": 2.0, "deployed": 3.0,
}
CLIENT_SIGNALS = ("opened", "pulled", "deployed")
DAY = 86_400.0
MAX_HALVINGS = 1000.0


def _upsert(conn: Connection, table: sa.Table, key: str, rows: list[dict[str, Any]],
            half_life: float) -> None:
    """Add each row's weight, decaying whichever of the stored and the new weight is older
    to the newer time (a signal recorded late, with an old time, counts what it is worth
    now). One statement per batch; no read-modify-write race."""
    conn.execute(_upsert_statement(conn, table, key, half_life), rows)


# Built statements by (dialect, table, half-life): building the upsert costs 3-4 ms of
# Python, ten times its execution, and the usage writer runs one per searched ref and
# term behind every search; its CPU then showed as the searches' own latency (the GIL).
_STATEMENTS: Bounded[Any] = Bounded(64)  # a half-life per settings object: a handful


def _upsert_statement(conn: Connection, table: sa.Table, key: str, half_life: float) -> Any:
    cache_key = (conn.dialect.name, table.name, half_life)
    found = _STATEMENTS.get(cache_key)
    if found is not None:
        return found
    stmt = upsert_insert(conn, table)
    old, new = table.c, stmt.excluded
    newer = new.touched_at >= old.touched_at
    score = sa.case(
        (newer, old.score * _half(new.touched_at - old.touched_at, half_life) + new.score),
        else_=old.score + new.score * _half(old.touched_at - new.touched_at, half_life),
    )
    touched = sa.case((newer, new.touched_at), else_=old.touched_at)
    built = stmt.on_conflict_do_update(index_elements=[key],
                                       set_={"score": score, "touched_at": touched})
    _STATEMENTS.put(cache_key, built)
    return built


def _half(elapsed: Any, half_life: float | ColumnElement[float]) -> ColumnElement[float]:
    """``0.5 ** (elapsed / half_life)``, the exponent held in [0, 1000]: PostgreSQL raises on
    a float underflow, and a weight 1000 half-lives old is nothing anyway."""
    divisor = half_life if isinstance(half_life, sa.ColumnElement) else sa.literal(
        half_life, sa.Float)
    halvings = elapsed / divisor
    bounded = sa.case((halvings <= 0, sa.literal(0.0, sa.Float)),
                      (halvings >= MAX_HALVINGS, sa.literal(MAX_HALVINGS, sa.Float)),
                      else_=halvings)
    return sa.func.power(sa.literal(0.5, sa.Float), bounded)


def record(
    conn: Connection,
    *,
    assets: Mapping[int, float] | None = None,
    terms: Mapping[str, float] | None = None,
    at: float,
    half_life_days: float,
) -> None:
    """Add weights to assets (by id) and terms at time ``at`` (epoch seconds)."""
    record_batch(conn, [Signals(at, assets or {}, terms or {})], half_life_days=half_life_days)


@dataclass(frozen=True)
class Signals:
    """Weights added to assets (by id) and terms at one time (epoch seconds)."""

    at: float
    assets: Mapping[int, float]
    terms: Mapping[str, float]


def record_batch(conn: Connection, batch: Sequence[Signals], *, half_life_days: float) -> None:
    """Record a batch as one upsert per table: each subject's signals are first added up
    (:func:`combine`), so a batch costs two statements however many signals it holds."""
    half_life = half_life_days * DAY
    by_asset = combine(((s.at, s.assets) for s in batch), half_life)
    by_term = combine(((s.at, s.terms) for s in batch), half_life)
    if by_asset:
        _upsert(conn, asset_usage, "asset_id",
                [{"asset_id": i, "score": w, "touched_at": t} for i, (w, t) in by_asset],
                half_life)
    if by_term:
        _upsert(conn, term_usage, "term",
                [{"term": k, "score": w, "touched_at": t} for k, (w, t) in by_term],
                half_life)


def combine(signals: Iterable[tuple[float, Mapping[_K, float]]],
            half_life: float) -> list[tuple[_K, tuple[float, float]]]:
    """Each subject's weights at their times as one (weight, time), sorted by subject (the
    order rows are locked in). The upsert keeps ``weight * half(newest - time)`` summed
    over every signal, at the newest time, whatever the order they arrive in (the stored
    row is one more term of that sum); so the sum over a batch's signals, taken at the
    batch's newest time, upserted once, leaves the row applying them one by one would
    (to rounding; the 1000-half-life floor of :func:`_half` only ever parts the two on
    weights below 1e-300)."""
    grouped: dict[_K, list[tuple[float, float]]] = {}
    for at, weights in signals:
        for key, weight in weights.items():
            grouped.setdefault(key, []).append((weight, at))
    combined = []
    for key in sorted(grouped):
        items = grouped[key]
        newest = max(at for _, at in items)
        total = sum(weight * _half_py(newest - at, half_life) for weight, at in items)
        combined.append((key, (total, newest)))
    return combined


def _half_py(elapsed: float, half_life: float) -> float:
    """:func:`_half` in Python, held to the same range."""
    return float(0.5 ** min(max(elapsed / half_life, 0.0), MAX_HALVINGS))


def decayed(table: sa.Table, *, now: float, half_life_days: float) -> ColumnElement[float]:
    """The weight of a usage row as of ``now`` (0 where the outer-joined row is missing)."""
    elapsed = sa.literal(now, sa.Float) - table.c.touched_at
    return sa.func.coalesce(
        table.c.score * _half(elapsed, half_life_days * DAY), sa.literal(0.0, sa.Float)
    )


def decayed_bound(table: sa.Table) -> ColumnElement[float]:
    """:func:`decayed` with ``now`` and the half-life as bound parameters (values from
    :func:`decay_params`), for statements built once and executed many times."""
    elapsed = sa.bindparam("usage_now", type_=sa.Float) - table.c.touched_at
    half_life = sa.bindparam("usage_half_life", type_=sa.Float)
    return sa.func.coalesce(table.c.score * _half(elapsed, half_life), sa.literal(0.0, sa.Float))


def decay_params(*, now: float, half_life_days: float) -> dict[str, float]:
    return {"usage_now": now, "usage_half_life": half_life_days * DAY}


def field_term(field: str) -> str:
    """The usage key of a query field (``tag:``, ``metrics.auc``)."""
    return f"field:{field}"


def query_terms(tree: Node) -> tuple[list[str], list[tuple[str, str, str, str | None]]]:
    """What a search says about interest: the terms (field values and fields it used) and
    the refs it named (``kind, namespace, name, version``)."""
    terms: list[str] = []
    refs: list[tuple[str, str, str, str | None]] = []
    for node in walk(tree):
        if isinstance(node, Match) and not node.negated:
            terms.append(field_term(f"{node.field}:"))
            if not node.prefix:
                terms.append(f"{node.field}:{node.value}")
        elif isinstance(node, JsonCompare):
            dotted = ".".join(node.path)
            path = dotted if node.path[0] == "metrics" else f"{node.document}.{dotted}"
            terms.append(field_term(path))
            if isinstance(node.value, str):
                terms.append(f"{path}:{node.value}")
        elif isinstance(node, Graph):
            terms.append(field_term(f"{node.predicate}:"))
            refs.append((node.kind, node.namespace, node.name, node.version))
        elif isinstance(node, RefMatch):
            refs.append((node.kind, node.namespace, node.name, node.version))
    return list(dict.fromkeys(t for t in terms if len(t) <= 300)), refs


def weights(items: Iterable[str], signal: str) -> dict[str, float]:
    return dict.fromkeys(items, WEIGHTS[signal])
