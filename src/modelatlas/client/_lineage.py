"""``client.lineage``: upstream and downstream of an asset, its direct neighbours, paths,
blast radius, and withdrawing a dataset version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelatlas.client._openlineage import OpenLineageIngestAPI
from modelatlas.client._transport import _Transport, _validated
from modelatlas.errors import InvalidInput
from modelatlas.registry import (
    BlastRadius,
    LineageGraph,
    LineageNeighbours,
    LineagePaths,
    LineageQuery,
)
from modelatlas.registry.lineage_types import DEFAULT_NODE_LIMIT
from modelatlas.registry.withdrawal_types import Withdrawal, WithdrawalRequest


class LineageAPI(OpenLineageIngestAPI):
    """``client.lineage``: lineage questions, answered in the registry's database."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def graph(
        self,
        ref: str,
        *,
        direction: str = "downstream",
        depth: int = 3,
        relations: Sequence[str] = (),
        kinds: Sequence[str] = (),
        as_of: str | None = None,
        limit: int = DEFAULT_NODE_LIMIT,
    ) -> LineageGraph:
        """The assets ``direction`` (upstream, downstream or both) of ``ref`` within
        ``depth`` hops, following only ``relations`` and returning only ``kinds`` when
        given, as the graph was at ``as_of`` (ISO-8601) when given."""
        if isinstance(relations, str) or isinstance(kinds, str):
            raise InvalidInput.at("/relations" if isinstance(relations, str) else "/kinds",
                                  "a list of names, not one string")
        body: dict[str, Any] = {"direction": direction, "depth": depth, "limit": limit,
                                "relations": list(relations), "kinds": list(kinds)}
        if as_of is not None:
            body["as_of"] = as_of
        return self._t.lineage_graph(ref, _validated(LineageQuery, body))

    def paths(self, source: str, target: str, *, depth: int = 6,
              limit: int = 20) -> LineagePaths:
        """Up to ``limit`` paths (shortest first, at most ``depth`` hops) along which
        ``source`` influenced ``target``, or the other way round when there are none."""
        return self._t.lineage_paths(source, target, depth, limit)

    def blast_radius(self, ref: str, *, depth: int = 10, cursor: str | None = None,
                     limit: int = 100) -> BlastRadius:
        """Everything downstream of ``ref``: counts per kind and one page of the model
        versions, evaluations and deployments it reaches (``next_cursor`` for the next)."""
        return self._t.blast_radius(ref, depth, cursor, limit)

    def neighbours(self, ref: str, *, direction: str = "downstream", kind: str | None = None,
                   cursor: str | None = None, limit: int = 25) -> LineageNeighbours:
        """One hop ``direction`` (upstream or downstream) of ``ref``: how many neighbours of
        each kind there are, and one page of them (of ``kind`` when given), oldest first,
        with the edges to them (``next_cursor`` for the next page)."""
        return self._t.lineage_neighbours(ref, direction, kind, cursor, limit)

    def withdraw(self, ref: str, *, reason: str, category: str = "other",
                 depth: int = 10) -> Withdrawal:
        """Withdraw the dataset version ``ref`` (``category``: corrupt, legal or other) and
        mark everything within ``depth`` hops downstream for revalidation, in one
        transaction; withdrawing again answers the first withdrawal."""
        body = _validated(WithdrawalRequest, {"reason": reason, "category": category,
                                              "depth": depth})
        return self._t.withdraw(ref, body)

    def withdrawal(self, ref: str, *, cursor: str | None = None,
                   limit: int = 100) -> Withdrawal:
        """How ``ref`` was withdrawn and one page of the assets it marked."""
        return self._t.withdrawal(ref, cursor, limit)
