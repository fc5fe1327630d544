"""The service layer's lineage questions, mixed into :class:`Registry`: upstream and
downstream of an asset (now or as of a past time), the paths between two assets, and the
blast radius of a change. Input is checked here; the walks run in the database
(:mod:`modelatlas.lineage`), each in one read transaction.

Access: the asset asked about must be readable (else the 404 of a missing asset, the
attempt recorded). Assets reached that the caller may not read stay in the answer as
redacted nodes (:class:`LineageNode` ``redacted``): same place, same edges, kind kept,
ref replaced by ``redacted:<n>``. Dropping them would show a gap that lies (a model with
no training data); naming them would leak. Readability is decided for the rows the walk
returned, in Python with :meth:`Readable.allows`, plus one indexed tag lookup for model
versions in promoted-only namespaces; the local user (everything readable) skips it all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas import lineage
from modelatlas.collector import collector_paused
from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.governance.grants import Readable, readable_for
from modelatlas.governance.policy import PROMOTED_TAG
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref, check_kind
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import missing, require_readable
from modelatlas.registry._rows import (
    SET_DICT,
    SET_EXTRA,
    SET_FIELDS_SET,
    SET_PRIVATE,
    check_limit,
    decode_cursor,
    encode_cursor,
    format_ref,
    trusted,
)
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.lineage_types import (
    MAX_DEPTH,
    REDACTED_STATE,
    BlastRadius,
    KindCount,
    LineageEdge,
    LineageGraph,
    LineageNeighbours,
    LineageNode,
    LineagePath,
    LineagePaths,
    LineageQuery,
)
from modelatlas.relations import relation_type
from modelatlas.store.tables import asset_tags, assets

if TYPE_CHECKING:
    from collections.abc import Iterable


MAX_PATHS = 100
_SIDES = ("upstream", "downstream")
_KEY_BITS = 48  # a blast-radius cursor packs (depth, id): ids stay below 2**48
_CHUNK = 500  # ids per tag lookup: under every backend's bound-parameter limit


def _promoted(conn: Connection, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(conn.execute(sa.select(asset_tags.c.asset_id).where(
            asset_tags.c.tag == PROMOTED_TAG,
            asset_tags.c.asset_id.in_(ids[start:start + _CHUNK]))).scalars())
    return found


def hidden_ids(conn: Connection, readable: Readable | None,
               nodes: Iterable[tuple[int, str, str]]) -> set[int]:
    """Which of ``nodes`` (``(id, kind, namespace)``, rows a walk already returned) the
    caller may not read. Only a model version in a promoted-only namespace needs its tags,
    and only whether it holds ``promoted``: one indexed lookup for all of them."""
    if readable is None or readable.everything:
        return set()
    hidden: set[int] = set()
    ask: list[int] = []
    for asset_id, kind, namespace in nodes:
        if kind == "model_version" and namespace in readable.promoted:
            ask.append(asset_id)
        elif not readable.allows(namespace, kind, ()):
            hidden.add(asset_id)
    if ask:
        hidden.update(set(ask) - _promoted(conn, sorted(set(ask))))
    return hidden


class _Tokens:
    """``redacted:<n>`` per hidden asset, numbered in the order the answer lists them."""

    def __init__(self, hidden: set[int]) -> None:
        self.hidden, self.given = hidden, dict[int, str]()

    def __call__(self, asset_id: int) -> str:
        token = self.given.get(asset_id)
        if token is None:
            token = self.given[asset_id] = f"redacted:{len(self.given) + 1}"
        return token


def _ref_of(node: lineage.Reached) -> str:
    return format_ref(node.kind, node.namespace, node.name, node.version)


def _node(node: lineage.Reached, tokens: _Tokens | None = None) -> LineageNode:
    # trusted(): the walk's rows are the model's shape already; model_construct was half
    # the cost of a 60-node walk
    if tokens is not None and node.id in tokens.hidden:
        return trusted(LineageNode, {
            "ref": tokens(node.id), "kind": node.kind, "state": REDACTED_STATE,
            "created_at": "", "depth": node.depth, "direction": node.direction,
            "redacted": True})
    return trusted(LineageNode, {
        "ref": _ref_of(node), "kind": node.kind, "state": node.state,
        "created_at": node.created_at, "depth": node.depth, "direction": node.direction,
        "redacted": False,
    })


def _wire_graph(rows: lineage.WalkRows, hidden: set[int]
                ) -> tuple[list[LineageNode], list[LineageEdge]]:
    """The walk's rows as wire values, built as :func:`trusted` does but sharing one set of
    field names per model: a new set per object (and the collections the garbage collector
    runs over them) was half the cost of building a 10k-node answer (35 -> 15 ms CPU per
    10k nodes). Sharing holds because every field is set: the only change pydantic makes
    to the set (adding a field on assignment) adds nothing."""
    new, put = object.__new__, SET_DICT
    fields_set, extra, private = SET_FIELDS_SET, SET_EXTRA, SET_PRIVATE
    node_fields, edge_fields = set(LineageNode.model_fields), set(LineageEdge.model_fields)
    refs: dict[int, str] = {}
    nodes = []
    tokens = _Tokens(hidden)
    for asset_id, kind, namespace, name, version, state, created_at, depth, side in rows.nodes:
        node = new(LineageNode)
        if hidden and asset_id in hidden:
            put(node, {"ref": refs.setdefault(asset_id, tokens(asset_id)), "kind": kind,
                       "state": REDACTED_STATE, "created_at": "", "depth": depth,
                       "direction": side, "redacted": True})
        else:
            # format_ref inlined: a call per node was a fifth of building it
            ref = refs[asset_id] = (f"{kind}:{namespace}/{name}@{version}" if version
                                    else f"{kind}:{namespace}/{name}")
            put(node, {"ref": ref, "kind": kind, "state": state, "created_at": created_at,
                       "depth": depth, "direction": side, "redacted": False})
        fields_set(node, node_fields)
        extra(node, None)
        private(node, None)
        nodes.append(node)
    edges = []
    for source_id, relation, target_id in rows.edges:
        edge = new(LineageEdge)
        put(edge, {"source": refs[source_id], "relation": relation,
                   "target": refs[target_id]})
        fields_set(edge, edge_fields)
        extra(edge, None)
        private(edge, None)
        edges.append(edge)
    return nodes, edges


def _parse_query(query: LineageQuery | Mapping[str, Any] | None) -> LineageQuery:
    if isinstance(query, LineageQuery):
        # re-validated: a model built with model_construct or mutated skips its bounds
        query = query.model_dump()
    try:
        parsed = LineageQuery.model_validate(dict(query or {}))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc, lead="the lineage query is not valid: ") from None
    for i, name in enumerate(parsed.relations):
        relation_type(name, path=f"/relations/{i}")
    for i, kind in enumerate(parsed.kinds):
        check_kind(kind, path=f"/kinds/{i}")
    return parsed


def _check_range(value: int, path: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput.at(path, f"must be between {low} and {high}")
    return value


def _check_existed(conn: Connection, ref: Ref, root_id: int, as_of: str | None) -> None:
    if as_of is not None:
        created = conn.execute(
            sa.select(assets.c.created_at).where(assets.c.id == root_id)
        ).scalar_one()
        if created > as_of:
            raise NotFound(f"{ref} did not exist at {as_of} (created {created})",
                           errors=[FieldError("/as_of", "before the asset was created")])


class _Unreadable(Exception):
    """Raised inside a walk's read transaction; answered once it has closed."""

    def __init__(self, ref: Ref, path: str) -> None:
        super().__init__(str(ref))
        self.ref, self.path = ref, path


class LineageService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    @staticmethod
    def _readable_in(conn: Connection, principal: Principal | None) -> Readable | None:
        """What the caller may read, on the walk's own snapshot; None for the local user
        (no query, no filtering: the fast path stays as it was)."""
        if principal is None or principal.is_local:
            return None
        return readable_for(conn, principal)

    @staticmethod
    def _ends(conn: Connection, readable: Readable | None,
              *ends: tuple[Ref, str]) -> list[int]:
        """The ids of the assets asked about (404 if missing), each readable, decided on
        the walk's own snapshot with ``readable`` (the twin of the access decision): no
        transaction of its own, so a permitted walk costs two small queries more."""
        ids = []
        for ref, path in ends:
            asset_id = q.require_id(conn, ref, path)
            if hidden_ids(conn, readable, [(asset_id, ref.kind, ref.namespace)]):
                raise _Unreadable(ref, path)
            ids.append(asset_id)
        return ids

    @contextmanager
    def _refusals(self, principal: Principal | None) -> Iterator[None]:
        """An unreadable asset asked about: the access decision records the attempt and
        answers 404, exactly as for a missing asset (outside the read transaction)."""
        try:
            yield
        except _Unreadable as refused:
            require_readable(self, principal, refused.ref, refused.path)
            raise missing(refused.ref, refused.path) from None  # the twin said no: hold

    def lineage(
        self, ref: str | Ref, query: LineageQuery | Mapping[str, Any] | None = None, *,
        principal: Principal | None = None,
    ) -> LineageGraph:
        """The assets upstream and/or downstream of ``ref`` within ``query.depth`` hops (the
        nearest ``query.limit``, root included) and the stored edges among them; those the
        caller may not read redacted (see the module's docstring)."""
        parsed_ref = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        parsed = _parse_query(query)
        as_of = None if parsed.as_of is None else lineage.parse_as_of(parsed.as_of)
        # the collector paused from the rows to the answer: a 10k-node walk's tens of
        # thousands of acyclic containers otherwise cost a third of its CPU in collections
        with collector_paused():
            with self._refusals(principal), self.db.read() as conn:
                readable = self._readable_in(conn, principal)
                root_id, = self._ends(conn, readable, (parsed_ref, "/ref"))
                _check_existed(conn, parsed_ref, root_id, as_of)
                spec = lineage.WalkSpec(
                    root_id=root_id, direction=parsed.direction,
                    depth=parsed.depth, relations=tuple(parsed.relations),
                    kinds=tuple(parsed.kinds), as_of=as_of, limit=parsed.limit,
                )
                found = lineage.walk_rows(conn, spec)
                hidden = hidden_ids(conn, readable, ((n[0], n[1], n[2]) for n in found.nodes
                                                     if n[0] != root_id))
            nodes, edges = _wire_graph(found, hidden)
            truncated = found.truncated
            # the rows die now: alive, the collection that the pause's end sets off would
            # examine every one of them with the answer
            del found
            return trusted(LineageGraph, {"root": str(parsed_ref), "query": parsed,
                                          "nodes": nodes, "edges": edges,
                                          "truncated": truncated})

    def lineage_paths(
        self, source: str | Ref, target: str | Ref, *, depth: int = 6, limit: int = 20,
        principal: Principal | None = None,
    ) -> LineagePaths:
        """Up to ``limit`` paths (shortest first) of at most ``depth`` hops along which
        ``source`` influenced ``target`` or, failing that, ``target`` influenced
        ``source``; refs listed from ``source``, edges as stored. Both ends must be
        readable; assets between them the caller may not read are ``redacted:<n>``."""
        source_ref = source if isinstance(source, Ref) else Ref.parse(source, path="/source")
        target_ref = target if isinstance(target, Ref) else Ref.parse(target, path="/target")
        _check_range(depth, "/depth", 1, MAX_DEPTH)
        _check_range(limit, "/limit", 1, MAX_PATHS)
        with self._refusals(principal), self.db.read() as conn:
            readable = self._readable_in(conn, principal)
            source_id, target_id = self._ends(conn, readable, (source_ref, "/source"),
                                              (target_ref, "/target"))
            if source_id == target_id:
                raise InvalidInput.at("/target", "the same asset as the source")
            found = lineage.paths_between(conn, source_id, target_id, depth=depth, limit=limit)
            hidden = hidden_ids(conn, readable,
                                ((n.id, n.kind, n.namespace) for n in found.nodes.values()))
        hidden -= {source_id, target_id}
        tokens = _Tokens(hidden)
        refs = {i: tokens(i) if i in hidden else _ref_of(n)
                for i, n in sorted(found.nodes.items())}
        return LineagePaths(
            source=str(source_ref), target=str(target_ref), truncated=found.truncated,
            paths=[LineagePath(
                refs=[refs[i] for i in path.node_ids],
                edges=[LineageEdge(source=refs[e.source_id], relation=e.relation,
                                   target=refs[e.target_id]) for e in path.edges],
            ) for path in found.paths],
        )

    def blast_radius(
        self, ref: str | Ref, *, depth: int = 10, cursor: str | None = None, limit: int = 100,
        principal: Principal | None = None,
    ) -> BlastRadius:
        """Everything within ``depth`` hops downstream of ``ref`` (a dataset version, a
        feature pipeline...): counts per kind, and one page of the model versions,
        evaluations and deployments it reaches, nearest first. Counts include what the
        caller may not read (a kind is not a secret, and a smaller radius would lie);
        those items are redacted."""
        parsed_ref = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        _check_range(depth, "/depth", 1, MAX_DEPTH)
        check_limit(limit, self.settings.page_limit_max)
        key = decode_cursor(cursor)
        after = None if key is None else (key >> _KEY_BITS, key & ((1 << _KEY_BITS) - 1))
        with self._refusals(principal), self.db.read() as conn:
            readable = self._readable_in(conn, principal)
            root_id, = self._ends(conn, readable, (parsed_ref, "/ref"))
            blast = lineage.blast_radius(conn, root_id, depth=depth, after=after, limit=limit)
            hidden = hidden_ids(conn, readable, ((n.id, n.kind, n.namespace)
                                                 for n in blast.items))
        last = blast.items[-1] if blast.more and blast.items else None
        tokens = _Tokens(hidden) if hidden else None
        return BlastRadius(
            root=str(parsed_ref), depth=depth,
            totals=[KindCount(kind=k, count=n) for k, n in sorted(blast.totals.items())],
            items=[_node(n, tokens) for n in blast.items],
            next_cursor=None if last is None
            else encode_cursor((last.depth << _KEY_BITS) | last.id),
        )

    def lineage_neighbours(
        self, ref: str | Ref, *, direction: str = "downstream", kind: str | None = None,
        cursor: str | None = None, limit: int = 25, principal: Principal | None = None,
    ) -> LineageNeighbours:
        """One hop ``direction`` (``upstream`` or ``downstream``) of ``ref``: the count of
        each kind of neighbour, and one page of them (of ``kind`` when given), oldest
        first; those the caller may not read redacted, counted all the same."""
        parsed_ref = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        if direction not in _SIDES:
            raise InvalidInput.at("/direction", "must be upstream or downstream")
        side: Literal["upstream", "downstream"] = (
            "upstream" if direction == "upstream" else "downstream")
        if kind is not None:
            check_kind(kind, path="/kind")
        check_limit(limit, self.settings.page_limit_max)
        after = decode_cursor(cursor) or 0
        with self._refusals(principal), self.db.read() as conn:
            readable = self._readable_in(conn, principal)
            root_id, = self._ends(conn, readable, (parsed_ref, "/ref"))
            found = lineage.neighbours(conn, root_id, direction=side, kind=kind, after=after,
                                       limit=limit)
            hidden = hidden_ids(conn, readable, ((n.id, n.kind, n.namespace)
                                                 for n in found.items))
        tokens = _Tokens(hidden) if hidden else None
        items = [_node(n, tokens) for n in found.items]
        refs = {n.id: item.ref for n, item in zip(found.items, items, strict=True)}
        refs[root_id] = str(parsed_ref)
        return LineageNeighbours(
            root=str(parsed_ref), direction=side, kind=kind,
            totals=[KindCount(kind=k, count=n) for k, n in sorted(found.totals.items())],
            items=items,
            edges=[LineageEdge(source=refs[e.source_id], relation=e.relation,
                               target=refs[e.target_id]) for e in found.edges],
            next_cursor=encode_cursor(found.items[-1].id) if found.more else None,
        )
