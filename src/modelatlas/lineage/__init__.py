"""Lineage: what shaped an asset and what depends on it, computed in the database.

Walks are recursive CTEs with an explicit depth bound, one builder per backend
(:mod:`._cte`); direction follows influence (*upstream* is what shaped an asset,
*downstream* what depends on it), with the relations :mod:`modelatlas.relations` marks
``prov_inverse`` (``produced``) followed the other way round.

- :func:`walk`: upstream / downstream / both of one asset, filtered, capped, as of a time
  (:func:`walk_rows`: the same answer as rows);
- :func:`paths_between`: the paths between two assets;
- :func:`blast_radius`: everything downstream, counted per kind, affected assets paged;
- :func:`neighbours`: one side of an asset's direct neighbours, counted per kind and paged;
- :func:`parse_as_of`: a caller's time as the stored UTC text.
"""

from modelatlas.lineage.blast import AFFECTED_KINDS, Blast, blast_radius
from modelatlas.lineage.history import parse_as_of
from modelatlas.lineage.neighbours import Neighbours, neighbours
from modelatlas.lineage.paths import Path, PathsResult, paths_between
from modelatlas.lineage.walk import (
    Direction,
    Edge,
    Reached,
    WalkResult,
    WalkRows,
    WalkSpec,
    walk,
    walk_rows,
)

__all__ = [
    "AFFECTED_KINDS",
    "Blast",
    "Direction",
    "Edge",
    "Neighbours",
    "Path",
    "PathsResult",
    "Reached",
    "WalkResult",
    "WalkRows",
    "WalkSpec",
    "blast_radius",
    "neighbours",
    "parse_as_of",
    "paths_between",
    "walk",
    "walk_rows",
]
