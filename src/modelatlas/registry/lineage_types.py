"""The wire shapes of lineage questions (``/lineage/...``): what the service takes and
returns, also the JSON on the wire.

Direction follows influence, not the arrow of the stored edge: *upstream* of an asset is
what shaped it (a model version's producing run, the datasets that run used, the datasets
those were derived from); *downstream* is what depends on it (runs that used a dataset,
what they produced, evaluations of it, deployments serving it). Every relation but
``produced`` points from the dependent to what it depends on; ``produced`` points the other
way (the run is upstream of its output), as ``modelatlas.relations`` records with
``prov_inverse``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Direction = Literal["upstream", "downstream", "both"]

MAX_DEPTH = 20
DEFAULT_NODE_LIMIT = 1000
MAX_NODE_LIMIT = 10_000


class LineageQuery(BaseModel):
    """A bounded walk from one asset. ``relations``/``kinds`` filter which edges are
    followed and which assets are returned (empty: all); ``as_of`` (ISO-8601 time) asks for
    the graph as it was then; ``limit`` caps the nodes returned (``truncated`` says so)."""

    model_config = ConfigDict(extra="forbid")

    direction: Direction = "downstream"
    depth: int = Field(default=3, ge=1, le=MAX_DEPTH)
    relations: list[str] = Field(default_factory=list, max_length=20)
    kinds: list[str] = Field(default_factory=list, max_length=20)
    as_of: str | None = Field(default=None, max_length=40)
    limit: int = Field(default=DEFAULT_NODE_LIMIT, ge=1, le=MAX_NODE_LIMIT)


REDACTED_STATE = "redacted"


class LineageNode(BaseModel):
    """An asset reached by the walk, light enough to return thousands of: fetch the whole
    asset by ``ref`` when it is needed. ``depth`` is the fewest hops from the root.

    ``redacted``: the caller may not read this asset. It keeps its place (depth, direction,
    edges) and its kind, so the graph does not pretend to be smaller than it is, but its
    ``ref`` is an opaque token (``redacted:<n>``, stable within one answer only), its
    ``state`` is ``redacted`` and ``created_at`` is empty."""

    ref: str
    kind: str
    state: str
    created_at: str
    depth: int
    direction: Literal["upstream", "downstream", "root"]
    redacted: bool = False


class LineageEdge(BaseModel):
    """A stored relation between two returned nodes, as stored (``source --relation-->
    target``, active voice), whatever the walk's direction."""

    source: str
    relation: str
    target: str


class LineageGraph(BaseModel):
    root: str
    query: LineageQuery
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = False


class LineagePath(BaseModel):
    """One path between two assets: the refs in order and the edges between them."""

    refs: list[str]
    edges: list[LineageEdge]


class LineagePaths(BaseModel):
    source: str
    target: str
    paths: list[LineagePath]
    truncated: bool = False


class KindCount(BaseModel):
    kind: str
    count: int


class BlastRadius(BaseModel):
    """Everything downstream of a dataset version or feature pipeline, transitively: the
    totals per kind over the whole radius and one page of the model versions, evaluations
    and deployments in it (nearest first)."""

    root: str
    depth: int
    totals: list[KindCount]
    items: list[LineageNode]
    next_cursor: str | None = None


class LineageNeighbours(BaseModel):
    """One side of an asset's direct neighbours: how many of each kind there are
    (``totals``, the whole side) and one page of them (by age, of ``kind`` when asked), with
    the stored edges between the asset and the page. An explorer opens an asset with 1,000
    dependents from the counts and pages in the rest on demand."""

    root: str
    direction: Literal["upstream", "downstream"]
    kind: str | None = None
    totals: list[KindCount]
    items: list[LineageNode]
    edges: list[LineageEdge]
    next_cursor: str | None = None
