"""The graph queries impact analysis and revalidation share: who consumes a set of data
assets, what derives from them, which deployments serve which versions, which versions run
in an environment. Each is one indexed query per chunk of ids, run in the database; walks
are bounded by an explicit depth, one query per level (nothing loads the graph)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.registry._rows import format_ref
from modelatlas.registry.impact_types import Affected
from modelatlas.store.tables import assets, relations

CHUNK = 500  # ids per IN list: far below SQLite's variable limit, few round trips
DEPLOYED_STATES = ("production", "staging")
LIVE_DEPLOYMENT_STATES = ("pending", "active")
ENV_LINKS = ("requires", "used", "associated_with")


@dataclass(frozen=True)
class Node:
    id: int
    kind: str
    ref: str
    state: str

    @property
    def owner(self) -> str:
        """``fraud/churn@7``: how a reason names the model version that declared it."""
        return self.ref.split(":", 1)[1]


def node_of(row: Any, prefix: str = "") -> Node:
    m = row._mapping
    return Node(
        int(m[f"{prefix}id"]), m[f"{prefix}kind"],
        format_ref(m[f"{prefix}kind"], m[f"{prefix}namespace"], m[f"{prefix}name"],
                   m[f"{prefix}version"]),
        m[f"{prefix}state"],
    )


NODE_COLUMNS = (assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name,
                assets.c.version, assets.c.state)


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for one in ids:
        batch.append(one)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Collector:
    """Affected assets by kind, each once, its reasons merged in the order found."""

    model_versions: dict[int, Affected] = field(default_factory=dict)
    deployments: dict[int, Affected] = field(default_factory=dict)
    data: dict[int, Affected] = field(default_factory=dict)
    # which of these ids the caller may not read (None: the caller reads everything). The
    # walk goes through unreadable assets (the change travels through them whatever the
    # caller may see); only the answer leaves them out, and counts them.
    unreadable: Callable[[list[int]], set[int]] | None = None

    def drop_unreadable(self) -> int:
        """Leave out what the caller may not read; return how many were left out."""
        if self.unreadable is None:
            return 0
        buckets = (self.model_versions, self.deployments, self.data)
        hidden = self.unreadable([i for b in buckets for i in b])
        for bucket in buckets:
            for asset_id in hidden & set(bucket):
                del bucket[asset_id]
        return len(hidden)

    def bucket(self, kind: str) -> dict[int, Affected]:
        if kind == "model_version":
            return self.model_versions
        if kind == "deployment":
            return self.deployments
        return self.data

    def add(self, node: Node, reason: str, *, via: str | None = None, depth: int = 0) -> bool:
        """Record ``reason`` for ``node``; True when the node is new."""
        bucket = self.bucket(node.kind)
        found = bucket.get(node.id)
        if found is None:
            bucket[node.id] = Affected(ref=node.ref, kind=node.kind, state=node.state,
                                       reasons=[reason], via=via, depth=depth)
            return True
        if reason not in found.reasons:
            found.reasons.append(reason)
        return False


@dataclass(frozen=True)
class Use:
    """``consumer`` uses data asset ``via_id``: it ``requires`` it, or a run that ``used``
    it produced the consumer (``trained_on``)."""

    consumer: Node
    via_id: int
    how: str  # "requires" | "trained on"


def consumers(conn: Connection, data_ids: Sequence[int]) -> list[Use]:
    """Who uses any of ``data_ids``: sources of ``requires`` edges (model versions,
    deployments, features) and the model versions produced by runs that ``used`` them."""
    found: list[Use] = []
    produced = relations.alias("p")
    for batch in chunks(data_ids):
        direct = (
            sa.select(relations.c.target_id.label("via"), *NODE_COLUMNS)
            .join(assets, assets.c.id == relations.c.source_id)
            .where(relations.c.relation == "requires", relations.c.target_id.in_(batch))
        )
        found += [Use(node_of(r), int(r.via), "requires") for r in conn.execute(direct)]
        trained = (
            sa.select(relations.c.target_id.label("via"), *NODE_COLUMNS)
            .join(produced, sa.and_(produced.c.source_id == relations.c.source_id,
                                    produced.c.relation == "produced"))
            .join(assets, assets.c.id == produced.c.target_id)
            .where(relations.c.relation == "used", relations.c.target_id.in_(batch),
                   assets.c.kind == "model_version")
        )
        found += [Use(node_of(r), int(r.via), "trained on") for r in conn.execute(trained)]
    return found


def derived(conn: Connection, data_ids: Sequence[int]) -> list[tuple[Node, int]]:
    """Features and datasets ``derived_from`` any of ``data_ids``, with the parent's id."""
    found: list[tuple[Node, int]] = []
    for batch in chunks(data_ids):
        stmt = (
            sa.select(relations.c.target_id.label("via"), *NODE_COLUMNS)
            .join(assets, assets.c.id == relations.c.source_id)
            .where(relations.c.relation == "derived_from", relations.c.target_id.in_(batch),
                   assets.c.kind.in_(("feature", "dataset")))
        )
        found += [(node_of(r), int(r.via)) for r in conn.execute(stmt)]
    return found


def sources_of(conn: Connection, relation: str, target_ids: Sequence[int],
               kinds: tuple[str, ...]) -> list[tuple[Node, int]]:
    """Assets of ``kinds`` with a ``relation`` edge to any of ``target_ids``."""
    found: list[tuple[Node, int]] = []
    for batch in chunks(target_ids):
        stmt = (
            sa.select(relations.c.target_id.label("via"), *NODE_COLUMNS)
            .join(assets, assets.c.id == relations.c.source_id)
            .where(relations.c.relation == relation, relations.c.target_id.in_(batch),
                   assets.c.kind.in_(kinds))
        )
        found += [(node_of(r), int(r.via)) for r in conn.execute(stmt)]
    return found


def versions_of(conn: Connection, kind: str, namespace: str, name: str) -> list[tuple[Node, Any]]:
    """Every version of a series with its metadata, oldest first (numbered versions in
    number order, then the others by id). Series are short: a few hundred versions."""
    stmt = (
        sa.select(*NODE_COLUMNS, assets.c.meta, assets.c.version_number)
        .where(assets.c.kind == kind, assets.c.namespace == namespace, assets.c.name == name,
               assets.c.version != "")
        .order_by(assets.c.version_number.is_(None), assets.c.version_number, assets.c.id)
        .limit(5000)
    )
    return [(node_of(r), r.meta) for r in conn.execute(stmt)]


def running_in(env_id: int) -> sa.CompoundSelect[Any]:
    """The ids of model versions that run in an environment: served by a deployment linked
    to it, produced by a run that used it or ran with it, or registered requiring it."""
    link = relations.alias("link")
    via = relations.alias("via")
    served = (
        sa.select(via.c.target_id.label("mv"))
        .select_from(link.join(via, via.c.source_id == link.c.source_id))
        .where(link.c.target_id == env_id, link.c.relation.in_(ENV_LINKS),
               via.c.relation == "serves")
    )
    trained = (
        sa.select(via.c.target_id.label("mv"))
        .select_from(link.join(via, via.c.source_id == link.c.source_id))
        .where(link.c.target_id == env_id, link.c.relation.in_(("used", "associated_with")),
               via.c.relation == "produced")
    )
    declared = sa.select(link.c.source_id.label("mv")).where(
        link.c.target_id == env_id, link.c.relation == "requires"
    )
    # UNION ALL: IN () deduplicates anyway, and a UNION's sort costs more than the repeats
    return sa.union_all(served, trained, declared)


@dataclass(frozen=True)
class Serving:
    deployment: Node
    version_id: int
    environments: frozenset[int]


def serving(conn: Connection, version_ids: Sequence[int]) -> list[Serving]:
    """Deployments serving any of ``version_ids``, each with the environments it is linked
    to (so a caller can tell a deployment in another environment from one in this)."""
    found: list[Serving] = []
    for batch in chunks(version_ids):
        stmt = (
            sa.select(relations.c.target_id.label("served"), *NODE_COLUMNS)
            .join(assets, assets.c.id == relations.c.source_id)
            .where(relations.c.relation == "serves", relations.c.target_id.in_(batch))
        )
        rows = [(node_of(r), int(r.served)) for r in conn.execute(stmt)]
        envs: dict[int, set[int]] = {}
        deployment_ids = sorted({n.id for n, _ in rows})
        if deployment_ids:
            env = assets.alias("env")
            links = (
                sa.select(relations.c.source_id, relations.c.target_id)
                .join(env, env.c.id == relations.c.target_id)
                .where(relations.c.source_id.in_(deployment_ids),
                       relations.c.relation.in_(ENV_LINKS), env.c.kind == "environment")
            )
            for source_id, target_id in conn.execute(links):
                envs.setdefault(int(source_id), set()).add(int(target_id))
        found += [Serving(n, v, frozenset(envs.get(n.id, ()))) for n, v in rows]
    return found


def deployed_ids(conn: Connection, version_ids: Sequence[int]) -> set[int]:
    """Which of ``version_ids`` are deployed: in state production or staging, or served by
    a pending or active deployment."""
    found: set[int] = set()
    dep = assets.alias("dep")
    for batch in chunks(version_ids):
        by_state = sa.select(assets.c.id).where(
            assets.c.id.in_(batch), assets.c.state.in_(DEPLOYED_STATES)
        )
        by_serving = (
            sa.select(relations.c.target_id)
            .join(dep, dep.c.id == relations.c.source_id)
            .where(relations.c.relation == "serves", relations.c.target_id.in_(batch),
                   dep.c.state.in_(LIVE_DEPLOYMENT_STATES))
        )
        found |= {int(i) for (i,) in conn.execute(sa.union(by_state, by_serving))}
    return found
