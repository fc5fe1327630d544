"""The relation vocabulary: typed, directed edges between assets, mapped to W3C PROV.

An edge reads ``source --relation--> target`` in the active voice ("a run *used* a
dataset", "a run *produced* a model version"). PROV often states the same fact from the
other end (``wasGeneratedBy(entity, activity)``); ``prov_inverse`` says when the PROV
statement swaps source and target.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelatlas.errors import FieldError, UnknownRelation

_ANY: frozenset[str] = frozenset(
    {
        "model", "model_version", "dataset", "feature", "schema",
        "environment", "code", "run", "evaluation", "deployment",
    }
)


@dataclass(frozen=True)
class RelationType:
    name: str
    prov_term: str
    prov_inverse: bool
    sources: frozenset[str]
    targets: frozenset[str]
    description: str


def _rel(
    name: str, prov: str, sources: set[str] | frozenset[str], targets: set[str] | frozenset[str],
    description: str, *, inverse: bool = False,
) -> RelationType:
    return RelationType(name, prov, inverse, frozenset(sources), frozenset(targets), description)


RELATIONS: dict[str, RelationType] = {
    r.name: r
    for r in (
        _rel("used", "prov:used", {"run", "evaluation", "deployment"},
             {"dataset", "feature", "code", "environment", "schema", "model_version"},
             "an activity used an entity as input"),
        _rel("produced", "prov:wasGeneratedBy", {"run"},
             {"model_version", "dataset", "feature", "schema", "evaluation"},
             "an activity produced an entity", inverse=True),
        _rel("derived_from", "prov:wasDerivedFrom",
             {"model_version", "dataset", "feature", "schema", "environment"},
             {"model_version", "dataset", "feature", "schema", "environment"},
             "an entity was derived from another (fine-tuning, feature from dataset)"),
        _rel("evaluated", "prov:used", {"evaluation"}, {"model_version"},
             "an evaluation assessed a model version"),
        _rel("evaluated_on", "prov:used", {"evaluation"}, {"dataset"},
             "an evaluation ran on a dataset (or a slice of one)"),
        _rel("serves", "prov:used", {"deployment"}, {"model_version"},
             "a deployment serves a model version"),
        _rel("requires", "prov:wasInfluencedBy", {"model_version", "feature", "deployment"},
             {"feature", "schema", "environment", "dataset"},
             "something needs another asset to run"),
        _rel("version_of", "prov:specializationOf", {"model_version"}, {"model"},
             "a model version is a version of a model"),
        _rel("conforms_to", "prov:wasInfluencedBy", {"dataset", "feature"}, {"schema"},
             "data follows a schema"),
        _rel("associated_with", "prov:wasAssociatedWith", {"run", "evaluation", "deployment"},
             {"code", "environment"}, "an activity ran with code or an environment as agent"),
        _rel("part_of", "prov:wasStartedBy", {"run"}, {"run"},
             "a run ran as part of another, which started it (an OpenLineage parent run)"),
        _rel("attributed_to", "prov:wasAttributedTo", _ANY, _ANY,
             "an entity is attributed to another"),
    )
}


def relation_type(name: str, *, path: str = "/relation") -> RelationType:
    try:
        return RELATIONS[name]
    except KeyError:
        raise UnknownRelation(
            f"unknown relation {name!r}; one of: {', '.join(sorted(RELATIONS))}",
            errors=[FieldError(path, f"unknown relation {name!r}")],
        ) from None


def check_edge(name: str, source_kind: str, target_kind: str) -> RelationType:
    """Return the relation type, or raise if ``source -name-> target`` is not allowed."""
    rel = relation_type(name)
    if source_kind not in rel.sources:
        raise UnknownRelation(
            f"a {source_kind} cannot be the source of '{name}' "
            f"(allowed: {', '.join(sorted(rel.sources))})",
            errors=[FieldError("/source", f"{source_kind} cannot {name}")],
        )
    if target_kind not in rel.targets:
        raise UnknownRelation(
            f"a {target_kind} cannot be the target of '{name}' "
            f"(allowed: {', '.join(sorted(rel.targets))})",
            errors=[FieldError("/target", f"{target_kind} is not a target of {name}")],
        )
    return rel
