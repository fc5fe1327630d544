"""Facet counts over a result set, computed in the database: one GROUP BY per facet,
the most frequent ``top`` values. Which facets exist is data (``facets.yaml``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.bounded import Bounded
from modelatlas.errors import InvalidInput
from modelatlas.search._aliases import aliased
from modelatlas.search.dialects import JsonFunctions
from modelatlas.search.visibility import Visible
from modelatlas.store.tables import assets, dataset_key_values, facet_key_values, run_inputs

MAX_FACETS = 20


class FacetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["column", "tag", "owner", "json", "dataset", "buckets"]
    column: Literal["kind", "namespace", "state"] | None = None
    path: tuple[str, ...] = ()
    bounds: tuple[float, ...] = ()


class FacetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    top: int = Field(default=20, ge=1, le=1000)
    default: tuple[str, ...] = ()
    facets: dict[str, FacetSpec]


@cache
def facet_config() -> FacetConfig:
    """The shipped configuration (``search/facets.yaml``), validated once."""
    text = files("modelatlas.search").joinpath("facets.yaml").read_text()
    return FacetConfig.model_validate(yaml.safe_load(text))


def check_facets(names: list[str] | None, config: FacetConfig) -> list[str]:
    """The facets to count: the named ones (each must exist), or the configured default."""
    if names is None:
        return list(config.default)
    if len(names) > MAX_FACETS:
        raise InvalidInput.at("/facets", f"at most {MAX_FACETS} facets")
    unknown = [n for n in names if n not in config.facets]
    if unknown:
        raise InvalidInput.at(
            "/facets", f"unknown facet {unknown[0]!r}; one of {', '.join(config.facets)}"
        )
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class KeyedHits:
    """The hits as rows of (id, facet_key), ``facet_key`` the id of the hit's facet key
    (migration 0025, search/facet_keys.py), and the key position of each facet counted
    from it."""

    source: sa.Select[Any]
    positions: dict[str, int]


@dataclass(frozen=True)
class FacetCounter:
    """Counts facet values among the assets that satisfy ``condition``, all facets in one
    statement: the matching assets are found once (a materialised CTE holding the id and
    every per-row facet value), then each facet groups that set, and a window keeps the
    ``top`` most frequent values of each. Counting per facet with its own statement
    re-ran the filter once per facet. ``condition`` already keeps only the assets the
    caller may read; ``visible`` (None: everything) also limits the values that name
    other assets (the datasets facet). With ``keyed`` hits no condition is read (None)."""

    conn: Connection
    json: JsonFunctions
    condition: ColumnElement[bool] | None
    top: int
    visible: Visible | None = None
    keyed: KeyedHits | None = None

    def count(self, specs: dict[str, FacetSpec]) -> dict[str, list[tuple[str, int]]]:
        if not specs:
            return {}
        names = list(specs)
        stmt, params = self._statement(specs)
        counted: dict[str, list[tuple[str, int]]] = {name: [] for name in names}
        for facet, value, n in self.conn.execute(stmt, params):
            counted[names[int(facet)]].append((str(value), int(n)))
        for name, spec in specs.items():
            if spec.type == "buckets":
                order = bucket_labels(spec.bounds)
                counted[name].sort(key=lambda pair: order.index(pair[0]))
        return counted

    def _statement(self, specs: dict[str, FacetSpec]) -> tuple[sa.Select[Any], dict[str, Any]]:
        """The counting statement and the values to bind in it. Over keyed hits it comes
        from :data:`_KEYED_STATEMENTS` when one of the same shape was built before: building
        it (some 40 clauses, with their column collections) was a fifth of the CPU of a
        filtered five-facet search at 1M; only its parts that carry values are built per
        call, for their cache keys and their bound values."""
        if self.keyed is None:
            return self._build(specs, {}), {}
        rules = self._dataset_rules(specs)
        parts: list[sa.ClauseElement] = [self.keyed.source, *rules.values()]
        keys = [part._generate_cache_key() for part in parts]
        if any(key is None for key in keys):  # an uncacheable construct: build it each time
            return self._build(specs, rules), {}
        shape = (self.conn.dialect.name, self.top, tuple(specs.items()),
                 tuple(sorted(self.keyed.positions.items())),
                 tuple(key.key for key in keys if key is not None))
        now = [list(key.bindparams) for key in keys if key is not None]
        cached = _KEYED_STATEMENTS.get(shape)
        if cached is None:
            cached = (self._build(specs, rules), now)
            _KEYED_STATEMENTS.put(shape, cached)
        stmt, built = cached
        return stmt, _rebound(built, now)

    def _dataset_rules(self, specs: dict[str, FacetSpec]) -> dict[int, ColumnElement[bool]]:
        """The caller's read rule over each dataset facet's alias of ``assets``: with the
        hits, the only part of the statement that depends on the caller."""
        if self.visible is None:
            return {}
        return {index: self.visible(aliased("assets", f"f_dataset_{index}"))
                for index, spec in enumerate(specs.values()) if spec.type == "dataset"}

    def _build(self, specs: dict[str, FacetSpec],
               rules: dict[int, ColumnElement[bool]]) -> sa.Select[Any]:
        groups = (self._keyed_groups(specs, self.keyed, rules) if self.keyed is not None
                  else self._row_groups(specs))
        union = sa.union_all(*(self._top(index, group) for index, group in enumerate(groups))
                             ).subquery("facet_counts")
        return sa.select(union.c.facet, union.c.value, union.c.n).order_by(
            union.c.facet, union.c.n.desc(), union.c.value)

    def _top(self, index: int, group: sa.Select[Any]) -> sa.Select[Any]:
        """The ``top`` most frequent values of one facet. A LIMIT per facet keeps a sorter
        of ``top`` rows; a window ranking every facet's values (a thousand datasets at 1M)
        sorted them all."""
        counted = group.subquery(f"f_counted_{index}")
        top = sa.select(counted).order_by(counted.c.n.desc(), counted.c.value).limit(
            self.top).subquery(f"f_top_{index}")
        return sa.select(top)

    def _row_groups(self, specs: dict[str, FacetSpec]) -> list[sa.Select[Any]]:
        """Each facet grouped over the hits' asset rows."""
        row_values = {f"v{i}": self._row_value(spec) for i, spec in enumerate(specs.values())}
        columns = [assets.c.id, *(v.label(k) for k, v in row_values.items() if v is not None)]
        if any(spec.type == "owner" for spec in specs.values()):
            columns.append(assets.c.owners)
        assert self.condition is not None, "hits without keys are counted under a condition"
        hits = sa.select(*columns).where(self.condition).cte("hits").prefix_with(
            "MATERIALIZED")
        return [self._group(index, spec, hits) for index, spec in enumerate(specs.values())]

    def _keyed_groups(self, specs: dict[str, FacetSpec], keyed: KeyedHits,
                      rules: dict[int, ColumnElement[bool]]) -> list[sa.Select[Any]]:
        """The single-valued facets from the hits' facet keys: the hits are grouped by key
        id (about 1.5k distinct keys over 10k hits at 1M; an integer, so the range read and
        the grouping stay cheap), only those keys' value columns are read (0026: a column
        per key position, not the JSON array parsed per key and facet), then each facet
        sums the keys by its column. Datasets come from the hits' sets of run inputs the
        same way; tags need only the hit ids."""
        # not materialised: each use re-reads the index range (~1 ms for 10k rows at 1M),
        # cheaper than writing the 10k rows to a temporary table and scanning it
        hits = keyed.source.cte("hits").prefix_with("NOT MATERIALIZED")
        grouped = sa.select(hits.c.facet_key, sa.func.count().label("n")).group_by(
            hits.c.facet_key).subquery("key_counts")
        columns = {position: facet_key_values.c[f"value_{position}"]
                   for position in sorted(set(keyed.positions.values()))}
        keys = sa.select(grouped.c.n, *columns.values()).select_from(
            grouped.join(facet_key_values, facet_key_values.c.id == grouped.c.facet_key)
        ).cte("keys").prefix_with("MATERIALIZED")
        groups = []
        for index, (name, spec) in enumerate(specs.items()):
            if spec.type == "dataset":
                groups.append(self._keyed_datasets(index, hits, rules.get(index)))
                continue
            if name not in keyed.positions:
                groups.append(self._group(index, spec, hits, rules.get(index)))
                continue
            facet = sa.literal(index, sa.Integer).label("facet")
            value = keys.c[columns[keyed.positions[name]].name]
            groups.append(_grouped(facet, value, sa.func.sum(keys.c.n), keys))
        return groups

    def _row_value(self, spec: FacetSpec) -> Any | None:
        """The facet's value as a column of the matching row, for the facets that have
        one value per asset; None for those that join other tables."""
        if spec.type == "column":
            return assets.c[spec.column or "kind"]
        if spec.type == "json":
            return self.json.text(assets.c.meta, spec.path)
        if spec.type == "buckets":  # bucketed when grouped: the CASE names it once per bound
            return self.json.number(assets.c.meta, spec.path)
        return None

    def _group(self, index: int, spec: FacetSpec, hits: Any,
               rule: ColumnElement[bool] | None = None) -> sa.Select[Any]:
        """(facet index, value, count) per value of one facet over the hits."""
        facet = sa.literal(index, sa.Integer).label("facet")
        if spec.type in ("column", "json"):
            return _grouped(facet, hits.c[f"v{index}"], sa.func.count(), hits)
        if spec.type == "buckets":
            value = _bucket(hits.c[f"v{index}"], spec.bounds)
            return _grouped(facet, value, sa.func.count(), hits)
        if spec.type == "tag":
            tags = aliased("asset_tags", f"f_tags_{index}")
            joined = hits.join(tags, tags.c.asset_id == hits.c.id)
            return _grouped(facet, tags.c.tag, sa.func.count(), joined)
        if spec.type == "owner":
            owners = self.json.elements(hits.c.owners)
            return _grouped(facet, owners.c.value, sa.func.count(), hits.join(owners, sa.true()))
        return self._datasets(facet, index, hits, rule)

    def _datasets(self, facet: Any, index: int, hits: Any,
                  rule: ColumnElement[bool] | None = None) -> sa.Select[Any]:
        """Dataset versions used by the runs that produced the hits: ``run_inputs`` is
        grouped first, walking from the hits through its (output_id, input_id) index, and
        only the grouped ids are looked up as assets. Joined to the datasets before
        grouping, the planner started from every dataset."""
        # one version may have been produced by more than one run using the same dataset
        grouped = sa.select(
            run_inputs.c.input_id.label("dataset_id"),
            sa.func.count(sa.distinct(run_inputs.c.output_id)).label("n"),
        ).where(run_inputs.c.output_id.in_(sa.select(hits.c.id))).group_by(
            run_inputs.c.input_id).subquery(f"f_used_by_hits_{index}")
        return self._named_datasets(facet, index, grouped, rule)

    def _keyed_datasets(self, index: int, hits: Any,
                        rule: ColumnElement[bool] | None) -> sa.Select[Any]:
        """As ``_datasets``, from the hits' sets of run inputs (``dataset_key``, 0025): the
        hits grouped by set (about one per dataset version), each set's ids expanded once
        and summed. A set holds an input once, so the sum counts each hit once per input,
        as ``count(DISTINCT output_id)`` does."""
        facet = sa.literal(index, sa.Integer).label("facet")
        sets = sa.select(hits.c.dataset_key, sa.func.count().label("n")).where(
            hits.c.dataset_key.is_not(None)).group_by(hits.c.dataset_key).subquery(
            f"f_input_sets_{index}")
        inputs = self.json.text_elements(dataset_key_values.c.inputs)
        dataset_id = sa.cast(inputs.c.value, sa.BigInteger)
        grouped = sa.select(dataset_id.label("dataset_id"), sa.func.sum(sets.c.n).label("n")
                            ).select_from(
            sets.join(dataset_key_values, dataset_key_values.c.id == sets.c.dataset_key)
            .join(inputs, sa.true())).group_by(dataset_id).subquery(f"f_used_by_hits_{index}")
        return self._named_datasets(facet, index, grouped, rule)

    def _named_datasets(self, facet: Any, index: int, grouped: Any,
                        rule: ColumnElement[bool] | None = None) -> sa.Select[Any]:
        """(facet, ref, n) of each grouped (dataset_id, n) that is a dataset the caller may
        read (``rule``, when the caller has built it already: the statement cache's)."""
        dataset = aliased("assets", f"f_dataset_{index}")
        # || on both backends (SQLite before 3.44 has no concat())
        ref = sa.literal("dataset:", sa.String) + dataset.c.namespace + sa.literal(
            "/", sa.String) + dataset.c.name + sa.literal("@", sa.String) + dataset.c.version
        joined = sa.and_(dataset.c.id == grouped.c.dataset_id, dataset.c.kind == "dataset")
        if self.visible is not None:  # a readable version's unreadable dataset goes unnamed
            joined = sa.and_(joined, rule if rule is not None else self.visible(dataset))
        return sa.select(facet, sa.cast(ref, sa.String).label("value"), grouped.c.n
                         ).select_from(grouped.join(dataset, joined))


def _rebound(built: list[list[Any]], now: list[list[Any]]) -> dict[str, Any]:
    """The values of this call's parts (its hits, its read rules) for the bound parameters
    of the parts the cached statement was built from. Equal cache keys list their bound
    parameters in the same order, so they pair up one to one; every other parameter of the
    statement is a constant of its shape (facet indexes, bucket bounds, literals)."""
    params: dict[str, Any] = {}
    for old, new in zip(built, now, strict=True):
        for was, value in zip(old, new, strict=True):
            params[was.key] = value.effective_value
    return params


_Cached = tuple[sa.Select[Any], list[list[Any]]]


# Shapes seen: a handful per query form and facet list; each entry is one built statement
_KEYED_STATEMENTS: Bounded[_Cached] = Bounded(256)


def _grouped(facet: Any, value: Any, count: Any, source: Any) -> sa.Select[Any]:
    return sa.select(facet, sa.cast(value, sa.String).label("value"), count.label("n")
                     ).select_from(source).where(value.is_not(None)).group_by(value)


def bucket_labels(bounds: tuple[float, ...]) -> list[str]:
    labels = [f"<{_num(bounds[0])}"]
    labels += [f"{_num(lo)}-{_num(hi)}" for lo, hi in itertools.pairwise(bounds)]
    return [*labels, f">={_num(bounds[-1])}"]


def _num(value: float) -> str:
    return f"{value:g}"


def _bucket(number: Any, bounds: tuple[float, ...]) -> Any:
    """``[lo, hi)`` ranges between consecutive bounds, plus below-first and from-last."""
    labels = bucket_labels(bounds)
    whens = [(number < sa.bindparam(None, bound, sa.Float), label)
             for bound, label in zip(bounds, labels, strict=False)]
    return sa.case(*whens, (number.is_not(None), labels[-1]), else_=sa.null())
