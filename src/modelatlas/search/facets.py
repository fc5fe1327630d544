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

from modelatlas.errors import InvalidInput
from modelatlas.search.dialects import JsonFunctions
from modelatlas.store.tables import asset_tags, assets, relations

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
class FacetCounter:
    """Counts facet values among the assets that satisfy ``condition``."""

    conn: Connection
    json: JsonFunctions
    condition: ColumnElement[bool]
    top: int

    def count(self, spec: FacetSpec) -> list[tuple[str, int]]:
        values = self._values(spec).subquery("facet")
        stmt = sa.select(values.c.value, sa.func.count(sa.distinct(values.c.id)).label("n")
                         ).where(values.c.value.is_not(None)).group_by(values.c.value)
        stmt = stmt.order_by(sa.desc("n"), values.c.value).limit(self.top)
        counted = [(str(value), int(n)) for value, n in self.conn.execute(stmt)]
        if spec.type == "buckets":
            order = bucket_labels(spec.bounds)
            counted.sort(key=lambda pair: order.index(pair[0]))
        return counted

    def _values(self, spec: FacetSpec) -> sa.Select[Any]:
        """(id, value) for each matching asset and each of its values of the facet."""
        if spec.type == "column":
            return self._of(assets.c[spec.column or "kind"])
        if spec.type == "json":
            return self._of(self.json.text(assets.c.meta, spec.path))
        if spec.type == "buckets":
            return self._of(_bucket(self.json.number(assets.c.meta, spec.path), spec.bounds))
        if spec.type == "tag":
            joined = assets.join(asset_tags, asset_tags.c.asset_id == assets.c.id)
            return self._of(asset_tags.c.tag, joined)
        if spec.type == "owner":
            owners = self.json.elements(assets.c.owners)
            return self._of(owners.c.value, assets.join(owners, sa.true()))
        return self._datasets()

    def _of(self, value: Any, source: Any = assets) -> sa.Select[Any]:
        return sa.select(assets.c.id, value.label("value")).select_from(source).where(
            self.condition)

    def _datasets(self) -> sa.Select[Any]:
        produced = relations.alias("f_produced")
        used = relations.alias("f_used")
        dataset = assets.alias("f_dataset")
        joined = assets.join(produced, sa.and_(produced.c.target_id == assets.c.id,
                                               produced.c.relation == "produced")).join(
            used, sa.and_(used.c.source_id == produced.c.source_id, used.c.relation == "used")
        ).join(dataset, sa.and_(dataset.c.id == used.c.target_id, dataset.c.kind == "dataset"))
        # || on both backends (SQLite before 3.44 has no concat())
        ref = sa.literal("dataset:", sa.String) + dataset.c.namespace + sa.literal(
            "/", sa.String) + dataset.c.name + sa.literal("@", sa.String) + dataset.c.version
        return self._of(ref, joined)


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
