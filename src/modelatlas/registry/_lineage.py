"""The service layer's lineage questions, mixed into :class:`Registry`: upstream and
downstream of an asset (now or as of a past time), the paths between two assets, and the
blast radius of a change. Input is checked here; the walks run in the database
(:mod:`modelatlas.lineage`), each in one read transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas import lineage
from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.refs import Ref, check_kind
from modelatlas.registry import _queries as q
from modelatlas.registry._rows import (
    check_limit,
    decode_cursor,
    encode_cursor,
    format_ref,
    trusted,
)
from modelatlas.registry.lineage_types import (
    MAX_DEPTH,
    BlastRadius,
    KindCount,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineagePath,
    LineagePaths,
    LineageQuery,
)
from modelatlas.relations import relation_type
from modelatlas.store.tables import assets

if TYPE_CHECKING:
    from modelatlas.config import Settings
    from modelatlas.store.engine import Database

MAX_PATHS = 100
_KEY_BITS = 48  # a blast-radius cursor packs (depth, id): ids stay below 2**48


def _ref_of(node: lineage.Reached) -> str:
    return format_ref(node.kind, node.namespace, node.name, node.version)


def _node(node: lineage.Reached) -> LineageNode:
    # trusted(): the walk's rows are the model's shape already; model_construct was half
    # the cost of a 60-node walk
    return trusted(LineageNode, {
        "ref": _ref_of(node), "kind": node.kind, "state": node.state,
        "created_at": node.created_at, "depth": node.depth, "direction": node.direction,
    })


def _wire_graph(rows: lineage.WalkRows) -> tuple[list[LineageNode], list[LineageEdge]]:
    """The walk's rows as wire values, built as :func:`trusted` does but sharing one set of
    field names per model: a new set per object (and the collections the garbage collector
    runs over them) was half the cost of building a 10k-node answer (35 -> 15 ms CPU per
    10k nodes). Sharing holds because every field is set: the only change pydantic makes
    to the set (adding a field on assignment) adds nothing."""
    new, put = object.__new__, object.__setattr__
    node_fields, edge_fields = set(LineageNode.model_fields), set(LineageEdge.model_fields)
    refs: dict[int, str] = {}
    nodes = []
    for asset_id, kind, namespace, name, version, state, created_at, depth, side in rows.nodes:
        ref = refs[asset_id] = format_ref(kind, namespace, name, version)
        node = new(LineageNode)
        put(node, "__dict__", {"ref": ref, "kind": kind, "state": state,
                               "created_at": created_at, "depth": depth, "direction": side})
        put(node, "__pydantic_fields_set__", node_fields)
        put(node, "__pydantic_extra__", None)
        put(node, "__pydantic_private__", None)
        nodes.append(node)
    edges = []
    for source_id, relation, target_id in rows.edges:
        edge = new(LineageEdge)
        put(edge, "__dict__", {"source": refs[source_id], "relation": relation,
                               "target": refs[target_id]})
        put(edge, "__pydantic_fields_set__", edge_fields)
        put(edge, "__pydantic_extra__", None)
        put(edge, "__pydantic_private__", None)
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


def _root_id(conn: Connection, ref: Ref, as_of: str | None) -> int:
    root_id = q.require_id(conn, ref)
    if as_of is not None:
        created = conn.execute(
            sa.select(assets.c.created_at).where(assets.c.id == root_id)
        ).scalar_one()
        if created > as_of:
            raise NotFound(f"{ref} did not exist at {as_of} (created {created})",
                           errors=[FieldError("/as_of", "before the asset was created")])
    return root_id


class LineageService:
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        db: Database
        settings: Settings

    def lineage(
        self, ref: str | Ref, query: LineageQuery | Mapping[str, Any] | None = None
    ) -> LineageGraph:
        """The assets upstream and/or downstream of ``ref`` within ``query.depth`` hops (the
        nearest ``query.limit``, root included) and the stored edges among them."""
        parsed_ref = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        parsed = _parse_query(query)
        as_of = None if parsed.as_of is None else lineage.parse_as_of(parsed.as_of)
        with self.db.read() as conn:
            spec = lineage.WalkSpec(
                root_id=_root_id(conn, parsed_ref, as_of), direction=parsed.direction,
                depth=parsed.depth, relations=tuple(parsed.relations),
                kinds=tuple(parsed.kinds), as_of=as_of, limit=parsed.limit,
            )
            found = lineage.walk_rows(conn, spec)
        nodes, edges = _wire_graph(found)
        return trusted(LineageGraph, {"root": str(parsed_ref), "query": parsed,
                                      "nodes": nodes, "edges": edges,
                                      "truncated": found.truncated})

    def lineage_paths(
        self, source: str | Ref, target: str | Ref, *, depth: int = 6, limit: int = 20
    ) -> LineagePaths:
        """Up to ``limit`` paths (shortest first) of at most ``depth`` hops along which
        ``source`` influenced ``target`` or, failing that, ``target`` influenced
        ``source``; refs listed from ``source``, edges as stored."""
        source_ref = source if isinstance(source, Ref) else Ref.parse(source, path="/source")
        target_ref = target if isinstance(target, Ref) else Ref.parse(target, path="/target")
        _check_range(depth, "/depth", 1, MAX_DEPTH)
        _check_range(limit, "/limit", 1, MAX_PATHS)
        with self.db.read() as conn:
            source_id = q.require_id(conn, source_ref, "/source")
            target_id = q.require_id(conn, target_ref, "/target")
            if source_id == target_id:
                raise InvalidInput.at("/target", "the same asset as the source")
            found = lineage.paths_between(conn, source_id, target_id, depth=depth, limit=limit)
        refs = {i: _ref_of(n) for i, n in found.nodes.items()}
        return LineagePaths(
            source=str(source_ref), target=str(target_ref), truncated=found.truncated,
            paths=[LineagePath(
                refs=[refs[i] for i in path.node_ids],
                edges=[LineageEdge(source=refs[e.source_id], relation=e.relation,
                                   target=refs[e.target_id]) for e in path.edges],
            ) for path in found.paths],
        )

    def blast_radius(
        self, ref: str | Ref, *, depth: int = 10, cursor: str | None = None, limit: int = 100
    ) -> BlastRadius:
        """Everything within ``depth`` hops downstream of ``ref`` (a dataset version, a
        feature pipeline...): counts per kind, and one page of the model versions,
        evaluations and deployments it reaches, nearest first."""
        parsed_ref = ref if isinstance(ref, Ref) else Ref.parse(ref, path="/ref")
        _check_range(depth, "/depth", 1, MAX_DEPTH)
        check_limit(limit, self.settings.page_limit_max)
        key = decode_cursor(cursor)
        after = None if key is None else (key >> _KEY_BITS, key & ((1 << _KEY_BITS) - 1))
        with self.db.read() as conn:
            root_id = q.require_id(conn, parsed_ref)
            blast = lineage.blast_radius(conn, root_id, depth=depth, after=after, limit=limit)
        last = blast.items[-1] if blast.more and blast.items else None
        return BlastRadius(
            root=str(parsed_ref), depth=depth,
            totals=[KindCount(kind=k, count=n) for k, n in sorted(blast.totals.items())],
            items=[_node(n) for n in blast.items],
            next_cursor=None if last is None
            else encode_cursor((last.depth << _KEY_BITS) | last.id),
        )
